"""The extractive scorer's refusal rules, its file round trip and its fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.answer.extractive.judge import FEATURES, Candidate
from rag.answer.extractive.scorer import LinearScorer, fit_logistic
from rag.types import Passage


def candidate(score: float, probability: float, rejected: str | None = None) -> Candidate:
    passage = Passage(source="a.txt", start_line=1, end_line=1, text="Text.", score=1.0)
    return Candidate(passage, {"answerable": probability}, score=score, rejected=rejected)


SCORER = LinearScorer({"answerable": 1.0}, 0.0, threshold=0.3, trust_model=0.8,
                      min_model=0.2)


@pytest.mark.parametrize(
    ("score", "probability", "rejected", "expected"),
    [
        (0.5, 0.5, None, True),  # above the threshold, checks passed
        (0.2, 0.9, None, False),  # below the threshold, whatever the model says
        (0.5, 0.1, None, False),  # the model says no answer is there
        (0.5, 0.5, "off_kind", False),  # a failed check the model does not vouch for
        (0.5, 0.85, "off_kind", True),  # ... and one it does
        (0.9, 0.99, "holds no number for the question", False),  # no figure, no answer
    ],
)
def test_answers_applies_each_rule(
    score: float, probability: float, rejected: str | None, expected: bool
) -> None:
    assert SCORER.answers(candidate(score, probability, rejected)) is expected


def test_defaults_leave_the_model_rules_off() -> None:
    scorer = LinearScorer({}, 0.0, threshold=0.3)
    assert scorer.answers(candidate(0.5, 0.0, "off_subject"))


def test_save_and_load_keep_every_setting(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    SCORER.save(path, note="test")
    assert LinearScorer.load(path) == SCORER


def test_packaged_scorer_knows_every_weight() -> None:
    scorer = LinearScorer.load()
    assert set(scorer.weights) == set(FEATURES)
    assert 0 < scorer.threshold < 1


def test_fit_finds_the_feature_that_separates() -> None:
    rng = np.random.default_rng(0)
    signal = rng.normal(size=400)
    noise = rng.normal(size=400)
    labels = [int(s > 0) for s in signal]
    rows = [{"answerable": float(s), "dense": float(n)} for s, n in zip(signal, noise, strict=True)]
    weights, _ = fit_logistic(rows, labels)
    assert weights["answerable"] > 2.0
    assert abs(weights["dense"]) < 0.5
    assert all(weights[k] == 0.0 for k in FEATURES if k not in ("answerable", "dense"))
