"""Cutting documents into line-anchored pieces whose line numbers are recorded as they are cut.

Two granularities are produced from the same walk over a document's lines:

* chunks (``line_windows``): runs of consecutive non-blank lines packed up to a token
  budget; a line longer than the budget is cut into groups of its sentences, each group
  still citing that one line. Chunks are what a language model is shown.
* sentences (``sentence_units``): every sentence of every non-blank line, citing its line.
  Sentences are what the extractive answerer quotes.

Nothing here searches for text after cutting: every piece carries the line numbers of the
lines it was cut from.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rag.corpus import Document
from rag.language.sentences import sentence_spans
from rag.tokens import TokenCounter, count_tokens

__all__ = [
    "DEFAULT_CHUNK_TOKENS",
    "Piece",
    "line_windows",
    "sentence_units",
]

DEFAULT_CHUNK_TOKENS = 96

@dataclass(frozen=True)
class Piece:
    """A piece of a document: its text and the lines it was cut from (1-based, inclusive)."""

    source: str
    start_line: int
    end_line: int
    text: str
    index: int  # position of this piece among its document's pieces of the same kind


def sentence_units(doc: Document) -> list[Piece]:
    """Every sentence of every non-blank line of ``doc``, each citing its own line."""
    units: list[Piece] = []
    for number, line in enumerate(doc.lines, start=1):
        for start, end in sentence_spans(line):
            units.append(Piece(doc.source, number, number, line[start:end], len(units)))
    return units


def line_windows(
    doc: Document,
    max_tokens: int = DEFAULT_CHUNK_TOKENS,
    counter: TokenCounter = count_tokens,
) -> list[Piece]:
    """Runs of consecutive non-blank lines packed up to ``max_tokens`` tokens.

    A blank line always ends a window (it usually ends a paragraph). A line longer than
    ``max_tokens`` gets windows of its own, each a group of its sentences; a single
    sentence longer than the budget is kept whole rather than cut mid-sentence.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    windows: list[Piece] = []
    for block in _blocks(doc.lines):
        pending: list[tuple[int, str]] = []
        pending_tokens = 0
        for number, line in block:
            tokens = counter(line)
            if tokens > max_tokens:
                windows.extend(_flush(doc.source, pending, len(windows)))
                pending, pending_tokens = [], 0
                for text in _sentence_groups(line, max_tokens, counter):
                    windows.append(Piece(doc.source, number, number, text, len(windows)))
                continue
            if pending and pending_tokens + tokens > max_tokens:
                windows.extend(_flush(doc.source, pending, len(windows)))
                pending, pending_tokens = [], 0
            pending.append((number, line))
            pending_tokens += tokens
        windows.extend(_flush(doc.source, pending, len(windows)))
    return windows


def _blocks(lines: Sequence[str]) -> Iterator[list[tuple[int, str]]]:
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _flush(source: str, pending: list[tuple[int, str]], index: int) -> list[Piece]:
    if not pending:
        return []
    text = "\n".join(line.strip() for _, line in pending)
    return [Piece(source, pending[0][0], pending[-1][0], text, index)]


def _sentence_groups(line: str, max_tokens: int, counter: TokenCounter) -> list[str]:
    """Consecutive sentences packed up to ``max_tokens``, each group a slice of ``line`` so
    its text is verbatim in the line (joining sentences with one space would not be when
    the line separates them with two spaces or a tab)."""
    groups: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    current_tokens = 0
    for start, end in sentence_spans(line):
        tokens = counter(line[start:end])
        if current is not None and current_tokens + tokens > max_tokens:
            groups.append(current)
            current, current_tokens = None, 0
        current = (start, end) if current is None else (current[0], end)
        current_tokens += tokens
    if current is not None:
        groups.append(current)
    return [line[start:end] for start, end in groups]
