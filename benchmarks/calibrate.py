"""Calibrate the extractive backend's thresholds on the dev set (evals/dev.jsonl).

Runs every combination of the parameter grid below over the dev questions and prints the
metrics of each, best first by an objective that rewards citation hits, precision,
required facts and refusals of unanswerable questions, and penalises refusing answerable
ones beyond 10 %. The eval set is never used here: it stays a measurement.

    python benchmarks/calibrate.py [--set evals/dev.jsonl] [--top 10]
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from rag.answer.base import Draft
from rag.answer.extractive import ExtractiveBackend, ExtractiveParams
from rag.api import engine_for
from rag.engine import resolve_draft
from rag.evaluation.dataset import load_items
from rag.evaluation.metrics import Summary, score_item, summarize
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GRID = {
    "threshold": [0.5, 0.55, 0.6, 0.65],
    "lexical_weight": [0.3, 0.5, 0.7],
    "asked_similarity": [0.0, 0.4, 0.5, 0.6],
    "unit_similarity": [0.35, 0.45],
}


def objective(s: Summary) -> float:
    penalty = 2 * max(0.0, s.over_refusal - 0.1)
    return (s.citation_hit + s.citation_precision + s.facts + s.refusal_recall) / 4 - penalty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=ROOT / "evals" / "dev.jsonl")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    items = load_items(args.set)
    engine = engine_for(Settings.from_env(corpus=ROOT / "seeds"))
    retriever = engine.retriever()
    results = []
    keys = list(GRID)
    for values in itertools.product(*(GRID[k] for k in keys)):
        params = replace(ExtractiveParams(), **dict(zip(keys, values, strict=True)))
        backend = ExtractiveBackend(params)
        scores = []
        for item in items:
            draft: Draft = backend.answer(item.question, retriever, engine.settings.top_k)
            answer = resolve_draft(item.question, draft, backend.name, engine.corpus_root)
            scores.append(score_item(item, answer))
        summary = summarize(scores)
        results.append((objective(summary), values, summary))
    results.sort(key=lambda r: -r[0])
    print(" ".join(f"{k:>16}" for k in keys), "   obj  hit  prec facts  refuse over")
    for score, values, s in results[: args.top]:
        print(
            " ".join(f"{v:>16}" for v in values),
            f"{score:6.3f} {s.citation_hit:.2f} {s.citation_precision:.2f} {s.facts:.2f}"
            f"  {s.refusal_recall:.2f}   {s.over_refusal:.2f}",
        )


if __name__ == "__main__":
    main()
