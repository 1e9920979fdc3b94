"""SQuAD 2.0 in CI: two articles, 80 real questions nobody here wrote (half of them
impossible), scored by the same harness and gated by evals/thresholds.json. The articles
are ones the answerability model was not trained on. The full run is
``python benchmarks/squad.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.runner import check_gate
from rag.evaluation.squad import TRAINED_ARTICLES
from rag.evaluation.squad_run import run_squad
from tests.conftest import ROOT

SQUAD = ROOT.parent / "shared" / "bench" / "squad" / "dev-v2.0.json"


@pytest.mark.skipif(not SQUAD.exists(), reason="shared/bench/squad is not beside the repo")
def test_squad_sample_clears_its_gate(tmp_path: Path) -> None:
    articles = range(TRAINED_ARTICLES, TRAINED_ARTICLES + 2)
    run = run_squad(SQUAD, tmp_path, articles=articles, questions_per_article=40)
    assert run.summary.items == 80
    assert 0 < run.summary.unanswerable < 80
    thresholds = json.loads((ROOT / "evals" / "thresholds.json").read_text())["squad-sample"]
    assert check_gate([run], thresholds) == []
