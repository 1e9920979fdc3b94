"""Eval items: hand-written questions with gold lines and required facts (evals/*.jsonl)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from rag.errors import ConfigError

__all__ = ["CATEGORIES", "EvalItem", "GoldFact", "LineRange", "laid_out_corpora", "load_items",
           "near_duplicates"]

CATEGORIES = (
    "single_fact", "multi_file", "numbers", "conflicting", "paraphrase", "unanswerable",
    "adversarial", "code",
)
Category = Literal[
    "single_fact", "multi_file", "numbers", "conflicting", "paraphrase", "unanswerable",
    "adversarial", "code",
]


class LineRange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    start_line: int
    end_line: int

    def lines(self) -> set[tuple[str, int]]:
        return {(self.source, n) for n in range(self.start_line, self.end_line + 1)}


class GoldFact(BaseModel):
    """One fact an answer needs; citing any line of ``any_of`` is enough."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    fact: str
    any_of: list[LineRange]

    def lines(self) -> set[tuple[str, int]]:
        return set().union(*(r.lines() for r in self.any_of))


class EvalItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    question: str
    answerable: bool
    category: Category
    answer: str
    gold: list[GoldFact]
    facts: list[list[str]]  # each inner list: alternatives, one must be in the answer text
    notes: str = ""
    # Where the question comes from: "thread" (a real user's words, ``url`` the thread),
    # "written" (a person or language model writing in users' style), "" (older sets).
    origin: Literal["", "thread", "written"] = ""
    url: str = ""

    def relevant_lines(self) -> set[tuple[str, int]]:
        """Every line that states a fact of the answer: what a precise citation may point at."""
        return set().union(*(g.lines() for g in self.gold)) if self.gold else set()


def load_items(path: Path) -> list[EvalItem]:
    """Read a JSONL eval file; raises ``ConfigError`` naming the bad line."""
    items = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read eval set {path}: {exc.strerror}") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(EvalItem.model_validate_json(line))
        except ValidationError as exc:
            raise ConfigError(f"{path}:{number}: {exc.errors()[0]['msg']}") from exc
    return items


def near_duplicates(items: list[EvalItem], others: list[EvalItem], share: float) -> set[str]:
    """Ids of ``items`` whose question shares more than ``share`` of its words (word-set
    Jaccard) with a question of ``others``: independent writers about the same pages ask
    some of the same things, and a set trained or fitted on must not repeat one measured."""
    def word_set(text: str) -> set[str]:
        return set(re.findall(r"[a-z0-9]+", text.lower()))

    seen = [word_set(o.question) for o in others]
    close = set()
    for item in items:
        mine = word_set(item.question)
        if any(len(mine & s) / len(mine | s) > share for s in seen):
            close.add(item.id)
    return close


def laid_out_corpora(name: str) -> Path:
    """Where the corpora of the set folder ``evals/<name>`` (realq, rst, pdf, html) are laid
    out: ``$RAG_<NAME>_CORPORA``, else ``/work/<name>/corpora`` (evals/realq/README.md;
    the docs are the projects' own text, so they are not in this repository)."""
    return Path(os.environ.get(f"RAG_{name.upper()}_CORPORA", f"/work/{name}/corpora"))
