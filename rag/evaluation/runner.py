"""Running backends over an eval set: answers, scores, summaries, reports, the CI gate.

Backends:
* ``extractive``: live, offline, deterministic.
* ``openai``: rag's verified LLM backend, replayed from ``evals/cassettes/`` (recorded
  from a real OpenAI-compatible server; ``--record`` re-records against
  ``OPENAI_BASE_URL``).
* ``baseline``: LlamaIndex's ``CitationQueryEngine`` over the same retrieved passages
  (``RagRetriever``) and the same recorded LLM endpoint, its ``[n]`` markers mapped to
  the passages' lines and scored by the same metrics, unverified, as it ships.
* on request (``--backend NAME``): ``local``, the openai row's recordings under the local
  backend's own name (they are the local model's), and any other registered backend
  (``rag.answer.registry``: a plugin), through the engine like ``rag ask --backend NAME``,
  its HTTP replayed from ``NAME-<set>.yaml`` where that recording exists (``--record``
  makes it), live where it does not.
Eval cassettes match a request by its question and turn (first answer, repair), not by
its whole body, so a retrieval change replays the same model output against the new
context (whose ids the verifier then checks) instead of failing; re-record to refresh.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer.base import Draft, DraftCitation
from rag.corpus import quote_lines
from rag.engine import Engine, resolve_draft
from rag.evaluation.dataset import EvalItem
from rag.evaluation.labels import Label
from rag.evaluation.metrics import ItemScore, Summary, score_item, summarize
from rag.types import Answer

__all__ = [
    "BACKENDS",
    "GateFailure",
    "NotRecorded",
    "Run",
    "check_gate",
    "random_citer",
    "run_backend",
    "write_reports",
]

BACKENDS = ("extractive", "openai", "baseline")  # the rows run when none is named
Answerer = Callable[[EvalItem], Answer]


@dataclass
class Run:
    backend: str
    summary: Summary
    scores: list[ItemScore]
    answers: list[Answer]
    note: str = ""


@dataclass(frozen=True)
class GateFailure:
    backend: str
    metric: str
    value: float
    limit: float
    higher_is_better: bool

    def __str__(self) -> str:
        side = "below" if self.higher_is_better else "above"
        return f"{self.backend}: {self.metric} {self.value:.3f} is {side} {self.limit:.3f}"


class NotRecorded(Exception):
    """An answerer has no recording for this item (the item is left out of the run)."""


def run_backend(
    name: str, engine: Engine, items: list[EvalItem], answer: Answerer, top_k: int,
    seconds: Mapping[str, float] | None = None, labels: dict[str, Label] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Answer and score every item; retrieval recall@top_k from the same retriever.
    Items an answerer has no recording for are left out, and the run's note says so.
    ``seconds`` (filled as items are answered) gives each item's model time;
    ``progress(done, total)`` is called after each item."""
    answers, scores = [], []
    missing = 0
    for done, item in enumerate(items, 1):
        if progress:
            progress(done - 1, len(items))
        try:
            got = answer(item)
        except NotRecorded:
            missing += 1
            continue
        retrieved = {
            (p.source, n)
            for p in engine.retrieve(item.question, top_k)
            for n in range(p.start_line, p.end_line + 1)
        }
        answers.append(got)
        score = score_item(item, got, retrieved, labels)
        if seconds is not None and item.id in seconds:
            score.seconds = seconds[item.id]
        scores.append(score)
    if progress:
        progress(len(items), len(items))
    note = f"{len(items) - missing} of {len(items)} recorded" if missing else ""
    return Run(name, summarize(scores), scores, answers, note)


def random_citer(engine: Engine, seed: int = 0) -> Answerer:
    """A deliberately broken backend: quotes a random retrieved line for every question
    and never refuses. The gate must fail it."""
    rng = random.Random(seed)

    def answer(item: EvalItem) -> Answer:
        passage = rng.choice(engine.retrieve(item.question, 8))
        line = rng.randint(passage.start_line, passage.end_line)
        text = quote_lines(engine.corpus_root, passage.source, line, line).strip()
        draft = Draft(f"{text} [1]", [DraftCitation(passage.source, line, line)])
        return resolve_draft(item.question, draft, "random", engine.corpus_root)

    return answer


# Metrics the gate checks; False where lower is better.
GATED = {
    "citation_recall": True, "citation_hit": True, "citation_precision": True,
    "faithfulness": True, "facts": True, "refusal_recall": True, "over_refusal": False,
    "retrieval_recall": True, "unsupported": False, "fell_back_answerable": False,
}


def check_gate(runs: list[Run], thresholds: dict[str, dict[str, float]]) -> list[GateFailure]:
    """Every metric of every run against its threshold (``evals/thresholds.json``)."""
    failures = []
    for run in runs:
        for metric, limit in thresholds.get(run.backend, {}).items():
            value = getattr(run.summary, metric) or 0.0
            higher = GATED.get(metric, True)
            if (value < limit) if higher else (value > limit):
                failures.append(GateFailure(run.backend, metric, value, limit, higher))
    return failures


def write_reports(runs: list[Run], folder: Path, name: str) -> tuple[Path, Path]:
    """``<name>.json`` (every answer and score) and ``<name>.md`` (the table) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        run.backend: {
            "note": run.note,
            "summary": run.summary.model_dump(),
            "items": [
                {"score": s.model_dump(), "answer": a.model_dump()}
                for s, a in zip(run.scores, run.answers, strict=True)
            ],
        }
        for run in runs
    }
    json_path = folder / f"{name}.json"
    json_path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
    md_path = folder / f"{name}.md"
    md_path.write_text(table(runs, markdown=True) + "\n", "utf-8")
    return json_path, md_path


COLUMNS = (
    ("cit.recall", "citation_recall"), ("cit.hit", "citation_hit"),
    ("cit.prec", "citation_precision"), ("faithful", "faithfulness"), ("facts", "facts"),
    ("tokenF1", "token_f1"), ("refuse.R", "refusal_recall"), ("refuse.P", "refusal_precision"),
    ("over-ref", "over_refusal"), ("retr@k", "retrieval_recall"),
    ("fallback", "fell_back_answerable"), ("unsupp.", "unsupported"), ("s/q", "seconds"),
)


def table(runs: list[Run], markdown: bool = False) -> str:
    """The summaries side by side, one row per backend."""
    head = ["backend", *(label for label, _ in COLUMNS), "items"]
    rows = []
    for run in runs:
        values = [getattr(run.summary, field) for _, field in COLUMNS]
        unlabelled = run.summary.unlabelled
        note = ", ".join(filter(None, [
            run.note, f"{unlabelled} sentences unlabelled" if unlabelled else ""]))
        rows.append([run.backend + (f" ({note})" if note else ""),
                     *("-" if v is None else f"{v:.2f}" if v < 10 else f"{v:.0f}"
                       for v in values),
                     str(run.summary.items)])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [head, *rows]
    )

