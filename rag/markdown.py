"""What each line of a Markdown file is: its heading path, and whether it is a heading, a
line of prose, a list item, a table row (and which line is its header), a line of a fenced
or indented code block, or markup with nothing to quote (a fence, a rule, front matter,
a line of HTML tags and nothing else, an API-reference directive such as ``::: httpx.get``
that the site generator replaces with a docstring).

Parsed with markdown-it-py (CommonMark plus tables); line numbers are the file's own, so
everything built on this still cites exact lines. Two MkDocs extensions the CommonMark
grammar does not know are read as their authors mean them: an admonition (``!!! note``)
and a content tab (``=== "Sync"``) head an indented body that is prose, not code.

``search_text`` is what a line says once its markup is gone (link targets, emphasis
marks, admonition markers): what retrieval should match, never what is quoted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from rag.roles import CODE, FENCE, HEADING, MARKUP, TABLE, TEXT, Role, heading_paths

__all__ = ["CODE", "FENCE", "HEADING", "MARKUP", "TABLE", "TEXT", "Role", "line_roles",
           "search_text", "table_cells"]

_EXTENSION_HEAD = re.compile(r"^(?:!!!|\?\?\?\+?|===)\s")  # admonition, collapsible, tab
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_EMPHASIS = re.compile(r"(\*\*|__|\*|~~)(?=\S)(.+?)(?<=\S)\1")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_UNIT = re.compile(r"\s*\(([^()]{1,12})\)\s*$")  # "Weight (kg)": the unit of a column


def line_roles(lines: Sequence[str]) -> tuple[Role, ...]:
    """The role of every line of a Markdown document, in order."""
    return _roles(tuple(lines))


# A build cuts each file twice (sentences, windows), and every ask reads the roles of the
# files its candidates come from: with 16 kept, 50 asks over the 23 httpx pages parsed 80
# files. Keyed by the lines (an edited file is parsed again); holds 256 files' lines.
@lru_cache(maxsize=256)
def _roles(lines: tuple[str, ...]) -> tuple[Role, ...]:
    try:
        return _parsed_roles(lines)
    except (IndexError, RecursionError):
        # The parser's line numbers ran past the file's, or its nesting past Python's
        # stack: one odd file is read as plain lines, and never stops the corpus.
        return tuple(Role(MARKUP if not line.strip() else TEXT, (), (n, n))
                     for n, line in enumerate(lines, start=1))


def _parsed_roles(lines: tuple[str, ...]) -> tuple[Role, ...]:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table")
    prepared, extension_heads = _without_extension_indent(lines)
    kinds: list[str] = [MARKUP if not line.strip() else TEXT for line in lines]
    blocks: list[tuple[int, int] | None] = [None] * len(lines)
    headers: list[int | None] = [None] * len(lines)
    heading_at: dict[int, tuple[int, str]] = {}
    table_header: int | None = None
    # rag's lines are split on "\n" alone; markdown-it also breaks lines at a lone "\r",
    # which would number its lines past rag's. A space in its place keeps one line one.
    tokens = parser.parse("\n".join(line.replace("\r", " ") for line in prepared))
    for position, token in enumerate(tokens):
        if token.map is None:
            continue
        begin, end = token.map
        if token.type == "heading_open":
            heading_at[begin] = (int(token.tag[1:]), tokens[position + 1].content.strip())
            kinds[begin] = HEADING
            for n in range(begin + 1, end):  # a setext heading's underline
                kinds[n] = MARKUP
        elif token.type in ("fence", "code_block"):
            for n in range(begin, min(end, len(lines))):
                kinds[n] = CODE if lines[n].strip() else MARKUP
                blocks[n] = (begin + 1, end)
            if token.type == "fence":
                kinds[begin] = FENCE
                closing = end - 1
                if closing > begin and prepared[closing].strip().startswith(
                    prepared[begin].strip()[:3]
                ):
                    kinds[closing] = FENCE
        elif token.type == "thead_open":
            table_header = begin
        elif token.type == "table_open":
            table_header = None
            for n in range(begin, end):
                kinds[n] = TABLE if lines[n].strip() else MARKUP
                blocks[n] = (begin + 1, end)
        elif token.type == "tr_open" and table_header is not None:
            headers[begin] = table_header + 1
        elif token.type == "hr":
            kinds[begin] = MARKUP
        elif token.type == "paragraph_open":
            directive = prepared[begin].lstrip().startswith(":::")
            for n in range(begin, end):
                blocks[n] = (begin + 1, end)
                if directive:  # "::: httpx.get" and its options: filled in from code
                    kinds[n] = MARKUP
    for n in extension_heads:
        kinds[n] = MARKUP
    if lines and lines[0].strip() == "---":  # front matter
        for n in range(1, len(lines)):
            kinds[n - 1] = MARKUP
            if lines[n].strip() == "---":
                kinds[n] = MARKUP
                break
    for n, line in enumerate(lines):  # lines that say nothing
        separator = kinds[n] == TABLE and re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", line)
        tags_only = kinds[n] == TEXT and not search_text(line)  # "</a>", "<p>"
        if separator or tags_only:
            kinds[n] = MARKUP
    paths = heading_paths(len(lines), heading_at)
    return tuple(Role(kinds[n], paths[n], blocks[n] or (n + 1, n + 1), headers[n])
                 for n in range(len(lines)))


def _without_extension_indent(lines: tuple[str, ...]) -> tuple[list[str], list[int]]:
    """The lines with each admonition's or tab's indented body moved left by its indent,
    so CommonMark reads it as the prose it is; and the positions of the head lines."""
    out = list(lines)
    heads = []
    inside = False
    for n, line in enumerate(lines):
        if _EXTENSION_HEAD.match(line):
            heads.append(n)
            inside = True
            continue
        if inside:
            if not line.strip():
                continue
            if line.startswith("    ") or line.startswith("\t"):
                out[n] = line[4:] if line.startswith("    ") else line[1:]
            else:
                inside = False
    return out, heads


def search_text(text: str) -> str:
    """``text`` as a reader hears it: links by their words, no emphasis marks or tags."""
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _EMPHASIS.sub(r"\2", text)
    return _EXTENSION_HEAD.sub("", text.lstrip("#>-*+ ")).strip()


def table_cells(row: str, header: str) -> str:
    """A table row read with its header, one "column = value" per cell, a unit the
    column names in parentheses written after its value as a reader would say it:
    ``| Beta | 250 | 30 |`` under ``| Model | Price (USD) | Weight (kg) |`` is
    ``Model = Beta, Price = 250 USD, Weight = 30 kg`` (one clause: a colon would part
    the row's name from its figures)."""
    names, values = _cells(header), _cells(row)
    names = (names + [""] * len(values))[: len(values)]
    pairs = []
    for name, value in zip(names, values, strict=True):
        if not value:
            continue
        unit = _UNIT.search(name)
        if unit and re.fullmatch(r"[\d.,]+", value):
            name, value = name[: unit.start()].strip(), f"{value} {unit.group(1)}"
        pairs.append(f"{name} = {value}" if name else value)
    return ", ".join(pairs)


def _cells(line: str) -> list[str]:
    if "|" not in line:  # a reStructuredText simple table: columns apart by spaces
        return re.split(r"\s{2,}", line.strip())
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]
