"""The formats a corpus file can be in, and each one's reader: which files have line
roles, what each line's role is, and what retrieval reads of a piece.

``.md`` (``rag.markdown``), ``.rst`` (``rag.rst``), ``.html``/``.htm`` (``rag.html``:
its lines are what a browser shows on them already) and ``.pdf`` (``rag.pdf``: its
pages' extracted lines) have roles and heading paths; ``.txt`` is plain lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag import html, markdown, pdf, rst
from rag.markdown import table_cells
from rag.roles import Role

__all__ = ["is_structured", "line_roles", "searchable", "table_cells"]

_HTML = (".html", ".htm")


def is_structured(source: str) -> bool:
    """Whether the file's lines have roles and heading paths (any format but ``.txt``)."""
    return source.lower().endswith((".md", ".rst", ".pdf", *_HTML))


def line_roles(lines: Sequence[str], source: str) -> tuple[Role, ...]:
    """The role of every line of the document ``source``, by its format."""
    name = source.lower()
    if name.endswith(".rst"):
        return rst.rst_roles(lines)
    if name.endswith(_HTML):
        return html.html_roles(lines)
    if name.endswith(".pdf"):
        return pdf.pdf_roles(tuple(lines))
    return markdown.line_roles(lines)


def searchable(source: str, text: str, context: str = "") -> str:
    """What retrieval reads for a piece: its text without its format's markup, after its
    heading path; a ``.txt`` piece's text as it is."""
    name = source.lower()
    if not is_structured(name):
        return text
    if name.endswith(".rst"):
        plain = "\n".join(rst.search_text(line) for line in text.split("\n"))
    elif name.endswith(_HTML):
        plain = text  # read as a browser shows it already
    elif name.endswith(".pdf"):
        plain = pdf.search_text(text)
    else:
        plain = "\n".join(markdown.search_text(line) for line in text.split("\n"))
    return f"{context}: {plain}" if context else plain
