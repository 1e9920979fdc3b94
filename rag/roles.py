"""The part each line plays in its document, whatever the format: the roles every
reader (``rag.markdown``, ``rag.rst``, ``rag.html``, ``rag.pdf``) gives and everything
after them reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CODE", "FENCE", "HEADING", "MARKUP", "TABLE", "TEXT", "Role", "heading_paths",
           "path_text"]

HEADING = "heading"
TEXT = "text"  # prose: a paragraph, a list item, a block quote
TABLE = "table"  # a table row (its header row too)
CODE = "code"  # a line inside a code block
FENCE = "fence"  # the line that opens (or closes) a code block and says nothing itself
MARKUP = "markup"  # blank, a thematic break, front matter, an admonition's marker line
_QUOTABLE = (TEXT, TABLE, CODE)


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


def path_text(headings: Sequence[str]) -> str:
    """A heading path as one line of text, outermost first: "Guide > Install > Linux"."""
    return " > ".join(headings)


def heading_paths(count: int, titles: dict[int, tuple[int, str]]) -> list[tuple[str, ...]]:
    """The heading path in force at each of ``count`` lines, given the titles by line
    (0-based: level, text): a title ends the paths of its level and deeper, and its own
    line is under itself."""
    paths: list[tuple[str, ...]] = []
    path: list[tuple[int, str]] = []
    for n in range(count):
        if n in titles:
            level, title = titles[n]
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, title)]
        paths.append(tuple(t for _, t in path))
    return paths
