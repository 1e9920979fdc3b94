"""The formats a corpus file can be in, and each one's reader: which files have line
roles, what each line's role is, and what retrieval reads of a piece.

``.md`` (``rag.markdown``), ``.rst`` (``rag.rst``), ``.html``/``.htm`` (``rag.html``:
its lines are what a browser shows on them already) and ``.pdf`` (``rag.pdf``: its
pages' extracted lines) have roles and heading paths; ``.txt`` is plain lines.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from rag import html, markdown, pdf, rst
from rag.markdown import table_cells
from rag.roles import Role

__all__ = ["SUFFIXES", "file_format", "is_structured", "line_roles", "searchable",
           "table_cells"]

# The reader of each file name's ending; ``.txt`` is read as plain lines.
_FORMATS = {".md": "markdown", ".rst": "rst", ".html": "html", ".htm": "html", ".pdf": "pdf"}
SUFFIXES = frozenset({".txt", *_FORMATS})  # the files a corpus reads


def file_format(source: str) -> str:
    """``"markdown"``, ``"rst"``, ``"html"``, ``"pdf"``, or ``"text"`` for any other."""
    return _FORMATS.get(os.path.splitext(source)[1].lower(), "text")


def is_structured(source: str) -> bool:
    """Whether the file's lines have roles and heading paths (any format but ``.txt``)."""
    return file_format(source) != "text"


def line_roles(lines: Sequence[str], source: str) -> tuple[Role, ...]:
    """The role of every line of the document ``source``, by its format."""
    kind = file_format(source)
    if kind == "rst":
        return rst.rst_roles(lines)
    if kind == "html":
        return html.html_roles(lines)
    if kind == "pdf":
        return pdf.pdf_roles(tuple(lines))
    return markdown.line_roles(lines)


def searchable(source: str, text: str, context: str = "") -> str:
    """What retrieval reads for a piece: its text without its format's markup, after its
    heading path; a ``.txt`` piece's text as it is."""
    kind = file_format(source)
    if kind == "text":
        return text
    if kind == "rst":
        plain = "\n".join(rst.search_text(line) for line in text.split("\n"))
    elif kind == "html":
        plain = text  # read as a browser shows it already
    elif kind == "pdf":
        plain = pdf.search_text(text)
    else:
        plain = "\n".join(markdown.search_text(line) for line in text.split("\n"))
    return f"{context}: {plain}" if context else plain
