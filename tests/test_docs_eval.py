"""The documentation set in CI: 50 questions about the httpx docs (real Markdown nobody
here wrote: headings, code blocks, admonitions), scored by the same harness as the seeds
set and gated by evals/thresholds.json. Its blind part (docs-holdout.jsonl) is never run
here: only its aggregates are read, once per configuration (evals/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.embeddings import MiniLMEmbedder
from rag.engine import Engine
from rag.evaluation.backends import extractive_answerer
from rag.evaluation.dataset import load_items
from rag.evaluation.runner import check_gate, run_backend
from rag.settings import Settings
from tests.conftest import ROOT

DOCS = ROOT.parent / "shared" / "bench" / "httpx-docs" / "docs"


@pytest.mark.skipif(not DOCS.exists(), reason="shared/bench/httpx-docs is not beside the repo")
def test_the_docs_set_clears_its_gate(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    engine = Engine(Settings(corpus=DOCS, index_dir=tmp_path), embedder=embedder)
    engine.build()
    items = load_items(ROOT / "evals" / "httpx" / "docs-dev.jsonl")
    run = run_backend("extractive", engine, items, extractive_answerer(engine, 8), 8)
    assert run.summary.items == 50
    thresholds = json.loads((ROOT / "evals" / "thresholds.json").read_text())["docs-dev"]
    assert check_gate([run], thresholds) == []


@pytest.mark.skipif(not DOCS.exists(), reason="shared/bench/httpx-docs is not beside the repo")
def test_the_recorded_llm_path_on_the_docs_set_clears_its_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The verified LLM path, replayed from the local model's recordings of docs-dev:
    every question answered from them, every sentence it returns labelled by people
    (evals/httpx/verifier_docs.jsonl), and the gate, unsupported share included, held."""
    from rag.cli import main

    assert main(["eval", "--gate", "--backend", "openai", "--set",
                 str(ROOT / "evals" / "httpx" / "docs-dev.jsonl"), "--corpus", str(DOCS),
                 "--out", str(tmp_path)]) == 0
    assert "gate: every metric at or above its threshold" in capsys.readouterr().out
    run = json.loads((tmp_path / "docs-dev.json").read_text(encoding="utf-8"))["openai"]
    assert len(run["items"]) == 50
    assert run["summary"]["unlabelled"] == 0
