"""The context an LLM sees: retrieved lines under short ids the code assigns.

The model never retypes a file name or a line number; it cites ``[S1]``, ``[S2]``... and
the code maps each id back to the one line it was handed for. Lines come from the
retrieved chunks, best chunk first, read from the current files, each line once, until
the token budget (counted with tiktoken) is spent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.tokens import count_tokens
from rag.types import Passage

__all__ = ["SourceLine", "build_context", "format_context"]


@dataclass(frozen=True)
class SourceLine:
    id: str  # "S1"
    source: str
    line: int
    text: str


def build_context(
    passages: Sequence[Passage],
    lines_of: Callable[[str], Sequence[str]],
    budget_tokens: int,
    counter: Callable[[str], int] = count_tokens,
) -> list[SourceLine]:
    """Ids for the non-blank lines of ``passages``, in retrieval order, within the budget.

    ``lines_of(source)`` returns a file's current lines (1-based line ``n`` is item
    ``n - 1``). A line that would overflow the budget ends the context; the first line is
    always kept so a question never goes without context.
    """
    out: list[SourceLine] = []
    seen: set[tuple[str, int]] = set()
    used = 0
    for passage in passages:
        lines = lines_of(passage.source)
        for number in range(passage.start_line, passage.end_line + 1):
            if (passage.source, number) in seen or number > len(lines):
                continue
            text = lines[number - 1].strip()
            if not text:
                continue
            cost = counter(text) + 8  # the id and file name around it
            if out and used + cost > budget_tokens:
                return out
            seen.add((passage.source, number))
            out.append(SourceLine(f"S{len(out) + 1}", passage.source, number, text))
            used += cost
    return out


def format_context(lines: Sequence[SourceLine]) -> str:
    """One line per source line: ``[S1] (file.txt) text``."""
    return "\n".join(f"[{line.id}] ({line.source}) {line.text}" for line in lines)
