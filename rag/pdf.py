"""PDF files: the text of each page, line by line, as pypdf (pure Python) extracts it.

A PDF's document, as rag numbers and quotes it, is its pages' extracted lines in order,
each page after a line holding only a form feed (``\\f``): so a line of the document is
a line of one page, and a citation's lines map to a page and the lines within it
(``page_location``). A quote is the extracted text of those lines, as printed (a word
hyphenated at a line's end stays so); retrieval reads it with such words joined
(``search_text``). Every answer's quotes are checked against the extraction of the file
as it is now; extractions are kept by the file's SHA-256, in memory and on disk
(``$XDG_CACHE_HOME/rag/pdf-text``, else ``~/.cache/rag/pdf-text``), so an unchanged file
is extracted once (a 1,000-page manual takes pypdf about half a minute), and a changed
one again.

A PDF that cannot be read is skipped with one line saying why: encrypted (an empty
password is tried first, as viewers do), damaged, or with no text layer at all (a
scanned document: nothing would be indexed, and that must not pass silently).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from rag.roles import HEADING, MARKUP, TEXT, Role

__all__ = ["PAGE_BREAK", "UnreadablePdf", "page_location", "pdf_lines",
           "pdf_roles", "search_text"]

PAGE_BREAK = "\f"
_CACHE_SIZE = 16
_cache: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_lock = threading.Lock()


class UnreadablePdf(Exception):
    """Why a PDF yields no text: its message is the reason, for the warning line."""


def pdf_lines(data: bytes) -> tuple[str, ...]:
    """The document's lines: each page's extracted lines after a form-feed line.
    Raises ``UnreadablePdf``."""
    key = hashlib.sha256(data).hexdigest()
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    stored = _cache_dir() / f"{key}.json"
    try:
        lines = tuple(json.loads(stored.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        lines = _extract(data)
        with contextlib.suppress(OSError):  # a cache that cannot be written is no cache
            stored.parent.mkdir(parents=True, exist_ok=True)
            partial = stored.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(lines), encoding="utf-8")
            partial.replace(stored)
    with _lock:
        _cache[key] = lines
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return lines


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag" / "pdf-text"


def _extract(data: bytes) -> tuple[str, ...]:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    # pypdf logs every oddity of a damaged file; the one line rag writes says enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadablePdf("encrypted PDF (a password is needed)")
        lines: list[str] = []
        for page in reader.pages:
            text = page.extract_text() or ""
            lines.append(PAGE_BREAK)
            lines.extend(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    except FileNotDecryptedError as exc:
        raise UnreadablePdf("encrypted PDF (a password is needed)") from exc
    except UnreadablePdf:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            AssertionError, RecursionError, OSError, NotImplementedError) as exc:
        # pypdf meets broken files with many kinds of error; each means the same here.
        raise UnreadablePdf(f"damaged PDF ({type(exc).__name__})") from exc
    if not lines:
        raise UnreadablePdf("PDF with no pages")
    if not any(line.strip() for line in lines):
        raise UnreadablePdf("no text layer (a scanned PDF?)")
    return tuple(lines)


def page_location(lines: tuple[str, ...], line: int) -> tuple[int, int]:
    """The page (1-based) of document line ``line``, and its line within the page's text."""
    page, start = 0, 0
    for number in range(1, line + 1):
        if lines[number - 1] == PAGE_BREAK:
            page, start = page + 1, number
    return max(page, 1), line - start


def search_text(text: str) -> str:
    """Lines of a PDF as retrieval reads them: a word hyphenated at a line's end whole."""
    return re.sub(r"(\w)-\n(\w)", r"\1\2", text).replace("\n", " ")


# A list item's mark at a line's start: a bullet glyph, or a letter "o" used as one.
_BULLET = re.compile(r"^\s*(?:[\u2022\u25e6\u25aa\u2023\u2219\u00b7\u2013\-*]|o)\s")
_NUMBERED_TITLE = re.compile(r"^\d+(?:\.\d+)*\.?\s+[A-Z]")  # "1.2 Core Complex"
_LEADERS = re.compile(r"\.{5,}|(?:\. ){4,}")  # a table of contents' dot leaders
_EDGE_LINES = 3  # lines at a page's top and bottom where running heads and feet stand


def _running(lines: tuple[str, ...]) -> set[int]:
    """Positions of running heads and feet: a line among a page's first or last three
    whose text, its digits aside, stands there on at least three pages and a quarter of
    them (a manual's title and copyright line, "Page 12 of 58")."""
    pages: list[list[int]] = []
    for n, line in enumerate(lines):
        if line == PAGE_BREAK:
            pages.append([])
        elif line.strip() and pages:
            pages[-1].append(n)

    def key(n: int) -> str:  # the line less its page number (digits, roman numerals)
        return re.sub(r"\d+|\b[ivxlc]+\b", "#", lines[n].strip().lower()).strip("# ")

    edges = {n: (number, key(n)) for number, filled in enumerate(pages)
             for n in [*filled[:_EDGE_LINES], *filled[-_EDGE_LINES:]]}
    pages_of: dict[str, set[int]] = {}
    for number, text in edges.values():
        pages_of.setdefault(text, set()).add(number)
    least = max(3, len(pages) // 4)
    return {n for n, (_, text) in edges.items() if len(pages_of[text]) >= least}


@lru_cache(maxsize=64)
def pdf_roles(lines: tuple[str, ...]) -> tuple[Role, ...]:
    """A PDF's lines as a reader sees their parts, which its text does not mark:
    - running heads and feet (``_running``) are markup;
    - a title is a short line (under 60 % of the median line) without closing
      punctuation, numbered ("1.2 Core Complex": under "1 ..." in the heading path) or,
      in a PDF that numbers no sections, after a finished sentence and before a line
      that starts one; it heads what follows it;
    - prose runs in paragraphs, which end at a blank line, a page's start, a title, a
      list item's bullet, a table of contents' line, after a short line that finishes a
      sentence (a paragraph's last line) and after a very short one (a figure's label,
      a table's cell), unless it breaks a word or a list."""
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    median = lengths[len(lengths) // 2] if lengths else 0
    running = _running(lines)
    numbered = sum(bool(_NUMBERED_TITLE.match(line.strip())) and len(line.strip()) < 0.6 * median
                   for line in lines) >= 3

    def skip(n: int) -> bool:
        return not lines[n].strip() or n in running

    def title(n: int) -> bool:
        text = lines[n].strip()
        if not 0 < len(text) < 0.6 * median or re.search(r"[.,;:!?\-]$", text):
            return False
        if _NUMBERED_TITLE.match(text):
            return True
        if numbered:  # a manual that numbers its sections: a short line is a label
            return False
        before = next((lines[k].strip() for k in range(n - 1, -1, -1) if not skip(k)), "")
        after = lines[n + 1].strip() if n + 1 < len(lines) else ""
        return (not before or re.search(r"[.!?:]$", before) is not None) and after[:1].isupper()

    def starts(n: int) -> bool:  # a line that begins a block of its own
        return bool(_BULLET.match(lines[n]) or _LEADERS.search(lines[n]))

    def ends(n: int) -> bool:  # a line after which its paragraph is over
        text = lines[n].strip()
        return bool(_LEADERS.search(text)) or (
            len(text) < 0.8 * median and re.search(r"[.!?:]$", text) is not None) or (
            len(text) < 0.6 * median and not text.endswith(("-", ",")))

    roles: list[Role] = []
    path: tuple[str, ...] = ()
    n = 0
    while n < len(lines):
        if skip(n):  # a blank line, a page's form feed, a running head
            roles.append(Role(MARKUP, path, (n + 1, n + 1)))
            n += 1
            continue
        if title(n):
            text = lines[n].strip()
            number = _NUMBERED_TITLE.match(text)
            level = number.group().split()[0].rstrip(".").count(".") if number else 0
            path = (*path[:level], text) if number else (text,)
            roles.append(Role(HEADING, path, (n + 1, n + 1)))
            n += 1
            continue
        end = n
        while (end + 1 < len(lines) and not skip(end + 1) and not title(end + 1)
               and not starts(end + 1) and not ends(end)):
            end += 1
        roles.extend(Role(TEXT, path, (n + 1, end + 1)) for _ in range(n, end + 1))
        n = end + 1
    return tuple(roles)
