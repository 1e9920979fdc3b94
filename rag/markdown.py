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
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["CODE", "FENCE", "HEADING", "MARKUP", "TABLE", "TEXT", "Role", "is_markdown",
           "is_structured", "line_roles", "search_text", "searchable", "table_cells"]

HEADING = "heading"
TEXT = "text"  # prose: a paragraph, a list item, a block quote
TABLE = "table"  # a table row (its header row too)
CODE = "code"  # a line inside a code block
FENCE = "fence"  # the ``` line that opens or closes a fenced block
MARKUP = "markup"  # blank, a thematic break, front matter, an admonition's marker line
_QUOTABLE = (TEXT, TABLE, CODE)

_EXTENSION_HEAD = re.compile(r"^(?:!!!|\?\?\?\+?|===)\s")  # admonition, collapsible, tab
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_EMPHASIS = re.compile(r"(\*\*|__|\*|~~)(?=\S)(.+?)(?<=\S)\1")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_UNIT = re.compile(r"\s*\(([^()]{1,12})\)\s*$")  # "Weight (kg)": the unit of a column


@dataclass(frozen=True)
class Role:
    """One line's part in its document (line numbers 1-based)."""

    kind: str
    headings: tuple[str, ...]  # the heading path in force (a heading line includes itself)
    block: tuple[int, int]  # first and last line of its block: a paragraph, a code block,
    # a table (a line that is none of these is a block of its own)
    header: int | None = None  # a table row's header line

    @property
    def quotable(self) -> bool:
        """Whether the line says something a citation could rest on."""
        return self.kind in _QUOTABLE


def is_markdown(source: str) -> bool:
    return source.lower().endswith(".md")


def is_structured(source: str) -> bool:
    """Whether the file's lines have roles and heading paths: Markdown,
    reStructuredText (``rag.rst``), HTML (``rag.html``) and PDF (``rag.pdf``: prose
    only, a paragraph a run of lines); a ``.txt`` file is plain lines."""
    return source.lower().endswith((".md", ".rst", ".html", ".htm", ".pdf"))


def line_roles(lines: Sequence[str], source: str = "") -> tuple[Role, ...]:
    """The role of every line of a Markdown document, in order; of a reStructuredText
    one when ``source`` names one (``rag.rst``)."""
    if source.lower().endswith(".rst"):
        from rag.rst import rst_roles

        return rst_roles(lines)
    if source.lower().endswith((".html", ".htm")):
        from rag.html import html_roles

        return html_roles(lines)
    if source.lower().endswith(".pdf"):
        return _runs(tuple(lines))
    return _roles(tuple(lines))


@lru_cache(maxsize=64)
def _runs(lines: tuple[str, ...]) -> tuple[Role, ...]:
    """A PDF's lines: prose, a paragraph each run of them; and titles, which a PDF's text
    does not mark but sets apart: a short line (under 60 % of the median line) without
    closing punctuation, after a blank line, a page's start or a finished sentence,
    before a line that starts one. A title is the heading path of what follows it."""
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    median = lengths[len(lengths) // 2] if lengths else 0

    def title(n: int) -> bool:
        text = lines[n].strip()
        before = lines[n - 1].strip() if n else ""
        after = lines[n + 1].strip() if n + 1 < len(lines) else ""
        return (0 < len(text) < 0.6 * median and not re.search(r"[.,;:!?\-]$", text)
                and (not before or re.search(r"[.!?:]$", before) is not None)
                and after[:1].isupper())

    roles: list[Role] = []
    path: tuple[str, ...] = ()
    n = 0
    while n < len(lines):
        if not lines[n].strip():  # a blank line, a page's form feed
            roles.append(Role(MARKUP, path, (n + 1, n + 1)))
            n += 1
            continue
        if title(n):
            path = (lines[n].strip(),)
            roles.append(Role(HEADING, path, (n + 1, n + 1)))
            n += 1
            continue
        end = n
        while end + 1 < len(lines) and lines[end + 1].strip() and not title(end + 1):
            end += 1
        roles.extend(Role(TEXT, path, (n + 1, end + 1)) for _ in range(n, end + 1))
        n = end + 1
    return tuple(roles)


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
    roles = []
    path: list[tuple[int, str]] = []
    for n in range(len(lines)):
        if n in heading_at:
            level, text = heading_at[n]
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, text)]
        roles.append(Role(kinds[n], tuple(t for _, t in path), blocks[n] or (n + 1, n + 1),
                          headers[n]))
    return tuple(roles)


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


def searchable(source: str, text: str, context: str = "") -> str:
    """What retrieval reads for a piece: a Markdown piece's text without its markup, after
    its heading path; any other piece's text as it is."""
    if not is_structured(source):
        return text
    if source.lower().endswith(".rst"):
        from rag.rst import search_text as rst_text

        plain = "\n".join(rst_text(line) for line in text.split("\n"))
    elif source.lower().endswith((".html", ".htm")):
        plain = text  # read as a browser shows it already (rag.html)
    elif source.lower().endswith(".pdf"):
        from rag.pdf import search_text as pdf_text

        plain = pdf_text(text)
    else:
        plain = "\n".join(search_text(line) for line in text.split("\n"))
    return f"{context}: {plain}" if context else plain


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
