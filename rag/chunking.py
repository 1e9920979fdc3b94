"""Cutting documents into line-anchored pieces whose line numbers are recorded as they are cut.

Two granularities are produced from the same walk over a document's lines:

* chunks (``line_windows``): runs of consecutive non-blank lines packed up to a token
  budget; a line longer than the budget is cut into groups of its sentences, each group
  still citing that one line. Chunks are what a language model is shown.
* sentences (``sentence_units``): every sentence of every non-blank line, citing its line.
  Sentences are what the extractive answerer quotes.

Nothing here searches for text after cutting: every piece carries the line numbers of the
lines it was cut from.

Markdown files (``rag.markdown``) are cut by their structure: a sentence of a hard-wrapped
paragraph is one piece citing every line it spans; a code line is a piece of its own, never
split at its dots; headings, fences and other markup are never pieces; a window never
crosses a heading, and a code block is a window of its own. Every Markdown piece carries
its heading path as ``context``, which retrieval reads with it (it is never quoted).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rag.corpus import Document
from rag.formats import is_structured, line_roles, table_cells
from rag.language.sentences import sentence_spans
from rag.roles import CODE, TABLE, TEXT, path_text
from rag.tokens import TokenCounter, count_tokens

__all__ = [
    "DEFAULT_CHUNK_TOKENS",
    "Piece",
    "line_windows",
    "sentence_units",
]

DEFAULT_CHUNK_TOKENS = 96
_LIST_MARKER = re.compile(r"\s*(?:[-*+]|\d{1,3}[.)])\s+")

@dataclass(frozen=True)
class Piece:
    """A piece of a document: its text and the lines it was cut from (1-based, inclusive)."""

    source: str
    start_line: int
    end_line: int
    text: str
    index: int  # position of this piece among its document's pieces of the same kind
    context: str = ""  # the heading path of a Markdown piece: searched, never quoted


def sentence_units(doc: Document) -> list[Piece]:
    """Every sentence of every non-blank line of ``doc``, each citing its own line (in
    Markdown, every sentence of every paragraph, citing the lines it spans)."""
    if is_structured(doc.source):
        return _markdown_sentences(doc)
    units: list[Piece] = []
    for number, line in enumerate(doc.lines, start=1):
        for start, end in sentence_spans(line):
            units.append(Piece(doc.source, number, number, line[start:end], len(units)))
    return units


def _markdown_sentences(doc: Document) -> list[Piece]:
    roles = line_roles(doc.lines, doc.source)
    units: list[Piece] = []
    number = 1
    while number <= len(doc.lines):
        role = roles[number - 1]
        context = path_text(role.headings)
        if role.kind in (CODE, TABLE):
            line = doc.lines[number - 1]
            if role.header is not None and role.header != number:
                # A row is found by its column names too: "Weight (kg): 30".
                cells = table_cells(line, doc.lines[role.header - 1])
                context = f"{context}: {cells}" if context else cells
            units.append(Piece(doc.source, number, number, line.strip(), len(units), context))
            number += 1
            continue
        if role.kind != TEXT:
            number += 1
            continue
        # The run of prose lines of this paragraph, read as one text.
        last = number
        while (last < len(doc.lines) and roles[last].kind == TEXT
               and roles[last].block == role.block and role.block[0] != role.block[1]):
            last += 1
        lines = doc.lines[number - 1 : last]
        text = "\n".join(lines)
        starts = [0]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        # A list marker ("3. ", "- ") is not a sentence of its own.
        marker = _LIST_MARKER.match(text)
        skip = marker.end() if marker else 0
        for start, end in ((a + skip, b + skip) for a, b in sentence_spans(text[skip:])):
            first = number + bisect_right(starts, start) - 1
            final = number + bisect_right(starts, end - 1) - 1
            units.append(Piece(doc.source, first, final, text[start:end], len(units), context))
        number = last + 1
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
    blocks = _markdown_blocks(doc.lines, doc.source) if is_structured(doc.source) else (
        ("", block) for block in _blocks(doc.lines))
    for context, block in blocks:
        pending: list[tuple[int, str]] = []
        pending_tokens = 0
        for number, line in block:
            tokens = counter(line)
            if tokens > max_tokens:
                windows.extend(_flush(doc.source, pending, len(windows)))
                pending, pending_tokens = [], 0
                for text in _sentence_groups(line, max_tokens, counter):
                    windows.append(Piece(doc.source, number, number, text, len(windows),
                                         context))
                continue
            if pending and pending_tokens + tokens > max_tokens:
                windows.extend(_flush(doc.source, pending, len(windows), context))
                pending, pending_tokens = [], 0
            pending.append((number, line))
            pending_tokens += tokens
        windows.extend(_flush(doc.source, pending, len(windows), context))
    return windows


def _markdown_blocks(
    lines: Sequence[str], source: str
) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """Runs of quotable lines under one heading path: prose and tables run up to a blank
    line or a heading; a code block's lines (its blank lines aside) make one run."""
    roles = line_roles(lines, source)
    block: list[tuple[int, str]] = []
    key: tuple[tuple[str, ...], tuple[int, int] | None] | None = None
    for number, (line, role) in enumerate(zip(lines, roles, strict=True), start=1):
        # A code block or a table holds together across its blank and separator lines.
        spanning = role.block[0] != role.block[1] and role.kind != TEXT
        code = role.block if spanning else None
        here = (role.headings, code)
        inside_code = code is not None and key is not None and key[1] == code
        if block and (here != key or (not role.quotable and not inside_code)):
            yield path_text(key[0]) if key else "", block
            block = []
        key = here
        if role.quotable:
            block.append((number, line))
    if block and key is not None:
        yield path_text(key[0]), block


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


def _flush(
    source: str, pending: list[tuple[int, str]], index: int, context: str = ""
) -> list[Piece]:
    if not pending:
        return []
    text = "\n".join(line.strip() for _, line in pending)
    return [Piece(source, pending[0][0], pending[-1][0], text, index, context)]


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
