"""A logistic scorer over the judge's features: the probability that a candidate
passage answers its question.

The weights are fitted by ``benchmarks/calibrate.py`` on the hand-written dev questions
and stored in ``extractive_model.json`` next to this module, with the refusal
threshold chosen on the same questions. Fitting is a few Newton steps of L2-regularised
logistic regression: deterministic, numpy only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rag.answer.extractive.judge import FEATURES, NO_FIGURE, Candidate

__all__ = ["LinearScorer", "fit_logistic"]

MODEL_FILE = "extractive_model.json"


@dataclass(frozen=True)
class LinearScorer:
    weights: dict[str, float]
    bias: float
    threshold: float  # least probability of the best candidate to answer at all
    keep_within: float = 0.15  # further sentences kept if this close to the best
    # A best candidate that failed a check answers only if the answerability model gives
    # it at least this probability (0: a failed check never refuses on its own).
    trust_model: float = 0.0
    # Least answerability probability of any candidate that answers, checks passed or not.
    min_model: float = 0.0

    def answers(self, best: Candidate) -> bool:
        """Whether the best candidate is good enough to answer with. A failed check is
        overridden by a model probability of at least ``trust_model``, except that a
        figure question is never answered by a sentence with no figure for it, nor a
        "which version" question by one with no version number (``NO_FIGURE``)."""
        if best.score < self.threshold:
            return False
        probability = best.features.get("answerable", 0.0)
        if probability < self.min_model or best.rejected in NO_FIGURE:
            return False
        return best.rejected is None or probability >= self.trust_model

    def score(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in features.items())
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    @classmethod
    def load(cls, path: Path | None = None) -> LinearScorer:
        if path is None:
            packaged = resources.files("rag.answer.extractive").joinpath(MODEL_FILE)
            text = packaged.read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        data = json.loads(text)
        return cls(
            weights={k: float(v) for k, v in data["weights"].items()},
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            keep_within=float(data.get("keep_within", 0.15)),
            trust_model=float(data.get("trust_model", 0.0)),
            min_model=float(data.get("min_model", 0.0)),
        )

    def save(self, path: Path, note: str = "") -> None:
        data = {"note": note, **asdict(self)}
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[int],
    l2: float = 1.0,
    steps: int = 50,
) -> tuple[dict[str, float], float]:
    """Weights and bias of an L2-regularised logistic regression (Newton's method)."""
    x = np.array([[row.get(k, 0.0) for k in FEATURES] for row in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    x = np.hstack([x, np.ones((len(x), 1))])
    w: npt.NDArray[np.float64] = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -40, 40)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.max(np.abs(step))) < 1e-9:
            break
    return {k: float(v) for k, v in zip(FEATURES, w[:-1], strict=True)}, float(w[-1])
