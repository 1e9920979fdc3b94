"""The eval gate CI runs: the extractive backend clears evals/thresholds.json on the eval
set, and a deliberately broken backend (random retrieved lines, never refusing) does not;
``rag eval --gate`` replays the recorded backends offline and gates them too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import main
from rag.engine import Engine
from rag.evaluation.backends import extractive_answerer
from rag.evaluation.dataset import load_items
from rag.evaluation.runner import Run, check_gate, random_citer, run_backend
from tests.conftest import ROOT

ITEMS = load_items(ROOT / "evals" / "dataset.jsonl")
THRESHOLDS = json.loads((ROOT / "evals" / "thresholds.json").read_text())["dataset"]


progress_seen: list[tuple[int, int]] = []


@pytest.fixture(scope="module")
def extractive_run(seeds_engine: Engine) -> Run:
    return run_backend("extractive", seeds_engine, ITEMS,
                       extractive_answerer(seeds_engine, 8), 8,
                       progress=lambda done, total: progress_seen.append((done, total)))


def test_the_run_reports_progress_question_by_question(extractive_run: Run) -> None:
    assert progress_seen == [(n, len(ITEMS)) for n in range(len(ITEMS) + 1)]


def test_extractive_clears_the_gate(extractive_run: Run) -> None:
    assert check_gate([extractive_run], THRESHOLDS) == []


def test_a_random_citer_fails_the_gate(seeds_engine: Engine) -> None:
    broken = run_backend("extractive", seeds_engine, ITEMS, random_citer(seeds_engine), 8)
    failed = {f.metric for f in check_gate([broken], THRESHOLDS)}
    assert {"citation_precision", "refusal_recall"} <= failed


def test_the_gate_reads_lower_is_better_for_over_refusal(extractive_run: Run) -> None:
    strict = {"extractive": {"over_refusal": -0.01}}
    (failure,) = check_gate([extractive_run], strict)
    assert failure.metric == "over_refusal"
    assert "above" in str(failure)


def test_rag_eval_replays_every_backend_offline_and_clears_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--gate", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "gate: every metric at or above its threshold" in out
    report = json.loads((tmp_path / "dataset.json").read_text(encoding="utf-8"))
    assert set(report) == {"extractive", "openai", "baseline"}
    # Every question was answered from the recordings: none left out as unrecorded.
    assert all(len(run["items"]) == len(ITEMS) for run in report.values())
    assert set(THRESHOLDS) >= {"extractive", "openai"}


def test_the_verified_llm_row_is_labelled_supported_and_beats_the_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the recorded local model: every sentence the verified path returns has a human
    label, none is labelled unsupported, and its citations are at least 20 points more
    precise than LlamaIndex's CitationQueryEngine over the same passages and model."""
    assert main(["eval", "--backend", "openai", "--backend", "baseline",
                 "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    report = json.loads((tmp_path / "dataset.json").read_text(encoding="utf-8"))
    ours, theirs = report["openai"]["summary"], report["baseline"]["summary"]
    assert ours["unlabelled"] == 0
    assert ours["unsupported"] == 0.0
    assert ours["citation_precision"] >= theirs["citation_precision"] + 0.20
