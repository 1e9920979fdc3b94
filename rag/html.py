"""HTML files (a built docs site, saved pages): what a reader sees on each line.

An HTML file is read as the text a browser shows, kept on the file's own lines: line
``n`` of the document is what the elements of line ``n`` of the file show, tags and
their attributes gone, entities decoded, runs of spaces collapsed (inside ``<pre>``
kept). So a citation names the file and the lines of the element that says it, and its
quote is the element's text as a reader sees it; the quote is checked against the file
on every answer, as any quote is, by reading the file this way again.

What a reader does not read there is dropped: ``<head>``, scripts, styles, templates,
SVG, forms' buttons, and the site's navigation (``<nav>``, ``<header>``, ``<footer>``,
``<aside>``, an element whose ``role`` is navigation or search, and elements whose
class names a sidebar, table of contents, navigation or header link, as Sphinx and MkDocs
mark them, or whose ``id`` is one of those names, as LDoc marks its ``navigation``).

Each line also gets its role (``rag.roles.Role``), as a Markdown line does: the
heading path from ``<h1>``-``<h6>``, code from ``<pre>``, table rows with their header
row, prose by block element. Parsed with Python's own ``html.parser``, which reads any
HTML without failing and reports where each tag starts.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from html.parser import HTMLParser

from rag.roles import CODE, HEADING, MARKUP, TABLE, TEXT, Role, heading_paths

__all__ = ["html_lines", "html_roles"]

_HIDDEN = frozenset({"head", "script", "style", "noscript", "template", "svg", "nav",
                     "header", "footer", "aside", "button", "select", "iframe", "object"})
_HIDDEN_ROLES = frozenset({"navigation", "search", "banner", "contentinfo"})
_HIDDEN_CLASS = re.compile(r"(?:^|[\s_-])(?:sidebar|toc|toctree-wrapper|headerlink|"
                           r"related|md-nav|md-header|md-footer|skip-link|navigation|"
                           r"navbar)(?:$|[\s_-])")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                   "meta", "param", "source", "track", "wbr"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Elements whose lines are one paragraph of prose (an inner one's lines are its own).
_PARAGRAPHS = frozenset({"p", "li", "dt", "dd", "blockquote", "caption", "figcaption",
                         "summary"})
# Elements that part texts: two of them on one line are two texts, not one word.
_PARTING = _PARAGRAPHS | frozenset({"div", "section", "article", "main", "body", "td",
                                    "th", "tr", "pre", "ul", "ol", "dl", "table", "details",
                                    *(f"h{n}" for n in range(1, 7))})
_CACHE_SIZE = 4096  # pages: a corpus is read whole before it is cut


class _Reader(HTMLParser):
    def __init__(self, count: int) -> None:
        super().__init__(convert_charrefs=True)
        self.shown: list[list[str]] = [[] for _ in range(count)]
        self.kinds: list[str | None] = [None] * count
        self.blocks: list[tuple[int, int] | None] = [None] * count
        self.headers: list[int | None] = [None] * count
        self.titles: dict[int, tuple[int, str]] = {}
        self.stack: list[tuple[str, bool, int]] = []  # tag, hidden, line it opened
        self.hidden = 0
        self.pre = 0
        self.heading: tuple[int, int, list[str]] | None = None  # level, line, words
        self.table_header: int | None = None
        self.row: int | None = None
        self.row_has_header = False
        self.cells = 0

    def line(self) -> int:
        return min(self.getpos()[0], len(self.shown)) - 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br" and not self.hidden:
                self.shown[self.line()].append(" ")
            return
        named = dict(attrs)
        hidden = (tag in _HIDDEN or (named.get("role") or "") in _HIDDEN_ROLES
                  or bool(_HIDDEN_CLASS.search(named.get("class") or ""))
                  or bool(_HIDDEN_CLASS.fullmatch(named.get("id") or ""))
                  or "hidden" in named)
        at = self.line()
        self.stack.append((tag, hidden, at))
        self.hidden += hidden
        if self.hidden:
            return
        if tag == "pre":
            self.pre += 1
        elif tag in _HEADINGS:
            self.heading = (_HEADINGS[tag], at, [])
        elif tag == "table":
            self.table_header = None
        elif tag == "tr":
            self.row, self.row_has_header, self.cells = at, False, 0
        if tag in ("td", "th") and self.row is not None:
            self.row_has_header |= tag == "th"
            self.cells += 1
            if self.cells > 1:  # a row reads "404 | Missing page", as rag reads table rows
                self.shown[at].append(" | ")
        elif tag in _PARTING:
            line = self.shown[at]
            if "".join(line).strip() and not line[-1].endswith(" "):
                line.append(" ")  # two blocks on one line are two texts

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not any(t == tag for t, _, _ in self.stack):
            return  # a stray end tag closes nothing
        while self.stack:
            open_tag, hidden, begin = self.stack.pop()
            self.hidden -= hidden
            if not (self.hidden or hidden):
                self._close(open_tag, begin, self.line())
            if open_tag == tag:
                break

    def _close(self, tag: str, begin: int, end: int) -> None:
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._mark(begin, end, CODE)
        elif tag in _HEADINGS and self.heading is not None:
            level, line, _ = self.heading
            title = " ".join("".join(self.shown[line]).split())
            self.titles[line] = (level, title)
            self._mark(line, line, HEADING)
            self.heading = None
        elif tag == "tr" and self.row is not None:
            self._mark(self.row, end, TABLE)
            if self.row_has_header and self.table_header is None:
                self.table_header = self.row
            elif self.table_header is not None:
                for n in range(self.row, end + 1):
                    if self.kinds[n] == TABLE and self.headers[n] is None:
                        self.headers[n] = self.table_header + 1
            self.row = None
        elif tag in _PARAGRAPHS:
            self._mark(begin, end, TEXT)

    def _mark(self, begin: int, end: int, kind: str) -> None:
        for n in range(begin, end + 1):
            if self.kinds[n] is None:  # an inner element decided first
                self.kinds[n] = kind
                self.blocks[n] = (begin + 1, end + 1)

    def handle_data(self, data: str) -> None:
        if self.hidden or not data:
            return
        first = self.getpos()[0] - 1
        for offset, part in enumerate(data.split("\n")):
            at = first + offset
            if at >= len(self.shown):
                break
            self.shown[at].append(part if self.pre else re.sub(r"\s+", " ", part))


_LINES: OrderedDict[tuple[str, ...], tuple[Role, ...]] = OrderedDict()
_LINES_LOCK = threading.Lock()


def html_lines(raw: Sequence[str]) -> tuple[str, ...]:
    """What a reader sees on each line of an HTML file (as many lines as ``raw``); the
    lines' roles are kept for ``html_roles``."""
    reader = _Reader(len(raw))
    try:
        reader.feed("\n".join(line.replace("\r", " ") for line in raw))
        reader.close()
    except (AssertionError, ValueError):  # html.parser gives up on very broken markup
        pass
    lines = []
    for n, parts in enumerate(reader.shown):
        text = "".join(parts)
        lines.append(text.rstrip() if reader.kinds[n] == CODE else " ".join(text.split()))
    shown = tuple(lines)
    paths = heading_paths(len(shown), reader.titles)
    roles = [Role((reader.kinds[n] or TEXT) if text.strip() else MARKUP, paths[n],
                  reader.blocks[n] or (n + 1, n + 1), reader.headers[n])
             for n, text in enumerate(shown)]
    with _LINES_LOCK:
        _LINES[shown] = tuple(roles)
        _LINES.move_to_end(shown)
        while len(_LINES) > _CACHE_SIZE:
            _LINES.popitem(last=False)
    return shown


def html_roles(lines: Sequence[str]) -> tuple[Role, ...]:
    """The roles of lines ``html_lines`` made (recorded then, for the last
    ``_CACHE_SIZE`` pages read); prose lines otherwise. A corpus is read whole before it
    is cut, so a site of more pages than that is cut with plain prose roles for its
    first pages: roles belong on the Document itself (the store split, issue 28)."""
    with _LINES_LOCK:
        found = _LINES.get(tuple(lines))
    if found is not None:
        return found
    return tuple(Role(TEXT if line.strip() else MARKUP, (), (n, n))
                 for n, line in enumerate(lines, start=1))
