"""Human labels of real model sentences (``evals/verifier_real.jsonl``): whether their
cited lines support them, and whether they answer the question. ``rag eval`` reads them
to say what share of the sentences a backend returned are unsupported, a number the
checker does not compute about itself; sentences nobody has labelled are counted apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Label", "load_labels", "sentence_id"]


@dataclass(frozen=True)
class Label:
    supported: bool  # the cited lines state what the sentence says
    answers: bool  # the sentence answers the question asked


def sentence_id(question: str, sentence: str, cites: Iterable[tuple[str, int]]) -> str:
    """A sentence's key: its question, its text and the lines it cites."""
    key = json.dumps([question.strip(), sentence.strip(), sorted(set(cites))])
    return "r" + hashlib.sha256(key.encode()).hexdigest()[:10]


def load_labels(path: Path) -> dict[str, Label]:
    """The labelled rows of ``path`` by id (rows still unlabelled are left out)."""
    if not path.exists():
        return {}
    labels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if isinstance(row.get("supported"), bool) and isinstance(row.get("answers"), bool):
            labels[row["id"]] = Label(row["supported"], row["answers"])
    return labels
