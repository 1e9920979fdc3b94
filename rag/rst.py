"""What each line of a reStructuredText file (Sphinx's format) is, in the roles the
Markdown reader gives (``rag.roles.Role``): its heading path, and whether it is a
section title, prose, a table row (with its header row), a line of a literal or
``code-block`` block, or markup with nothing to quote (a title's adornment, a directive's
head and options, a comment, a link target, a table border).

Read line by line rather than through docutils' doctree: a citation needs each line's own
number, and a doctree node's ``line`` is approximate (the end of a paragraph, the
underline of a title, nothing at all for many nodes), while Sphinx's own directives and
roles (``code-block``, ``versionadded``, ``:func:``) are unknown to plain docutils, which
reports them as errors. The grammar read here is the part of the format that decides
what a line is: section titles (underlined, or over- and underlined; levels in the order
their styles first appear), paragraphs over hard-wrapped lines, bullet, enumerated and
field lists, definition lists, literal blocks after ``::``, doctest blocks, grid and
simple tables, and explicit markup: directives (their content read as prose, code or
nothing, by name), comments, targets and substitution definitions. ``include`` is never
followed: the line is markup, and only files in the corpus are read.

``search_text`` is what a line says once its markup is gone (``:func:`get``` is "get",
```text <url>`_`` is "text", ``.. versionadded:: 2.0`` is "New in version 2.0"): what
retrieval and the judge read, never what is quoted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from rag.roles import CODE, FENCE, HEADING, MARKUP, TABLE, TEXT, Role, heading_paths

__all__ = ["rst_roles", "search_text"]

# A title's adornment: one punctuation character repeated (docutils allows any of these).
_ADORNMENT = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])\1{2,}\s*""")
_EXPLICIT = re.compile(r"\s*\.\.(?:\s|$)")
_DIRECTIVE = re.compile(r"\s*\.\.\s+([\w][\w:.+-]*)\s?::(?:\s+(.*))?$")
_ITEM = re.compile(r"\s*(?:[-*+\u2022]\s|(?:\d+|[a-zA-Z]|#)[.)]\s|\((?:\d+|[a-zA-Z]|#)\)\s|"
                   r":[^:\s][^:]*:(?:\s|$))")
_GRID_BORDER = re.compile(r"\s*\+(?:[-=]+\+)+\s*")
_SIMPLE_BORDER = re.compile(r"\s*=+(?:\s+=+)+\s*")

# Directives by what their content is. A name not listed has prose content (note,
# warning, seealso, admonition, topic, glossary, a Sphinx extension's own).
CODE_DIRECTIVES = frozenset({
    "code", "code-block", "sourcecode", "doctest", "testcode", "testoutput", "ipython",
    "jupyter-execute", "prompt", "parsed-literal", "math", "testsetup", "testcleanup",
})
NOTHING_DIRECTIVES = frozenset({  # content a reader of the source cannot quote as prose
    "toctree", "include", "literalinclude", "image", "raw", "meta", "index", "highlight",
    "currentmodule", "module", "contents", "tabularcolumns", "role", "default-role",
    "sectionauthor", "moduleauthor", "codeauthor", "autosummary", "automodule",
    "autoclass", "autofunction", "automethod", "autoattribute", "autodata",
    "autoexception", "autodecorator", "autoproperty", "click", "program", "only",
    "ifconfig", "graphviz", "inheritance-diagram", "figure", "csv-table",
})
_VERSION_WORDS = {"versionadded": "New in version", "versionchanged": "Changed in version",
                  "deprecated": "Deprecated since version",
                  "versionremoved": "Removed in version"}


def rst_roles(lines: Sequence[str]) -> tuple[Role, ...]:
    """The role of every line of a reStructuredText document, in order."""
    return _roles(tuple(lines))


@lru_cache(maxsize=256)
def _roles(lines: tuple[str, ...]) -> tuple[Role, ...]:
    reader = _Reader(lines)
    reader.read(0, len(lines))
    return reader.roles()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class _Reader:
    def __init__(self, lines: tuple[str, ...]) -> None:
        self.lines = [line.expandtabs(8) for line in lines]
        self.kinds = [MARKUP if not line.strip() else TEXT for line in lines]
        self.blocks: list[tuple[int, int] | None] = [None] * len(lines)
        self.headers: list[int | None] = [None] * len(lines)
        self.titles: dict[int, tuple[int, str]] = {}
        self.styles: list[tuple[str, bool]] = []
        # What a directive's content is about (``.. py:data:: MAX_CONTENT_LENGTH``): the
        # last part of its lines' heading path, as a title would be.
        self.about: list[str] = [""] * len(lines)

    def roles(self) -> tuple[Role, ...]:
        paths = heading_paths(len(self.lines), self.titles)
        return tuple(Role(self.kinds[n], paths[n] + ((self.about[n],) if self.about[n] else ()),
                          self.blocks[n] or (n + 1, n + 1), self.headers[n])
                     for n in range(len(self.lines)))

    def blank(self, n: int) -> bool:
        return not self.lines[n].strip()

    def body_end(self, start: int, stop: int, indent: int) -> int:
        """The end (exclusive) of the lines from ``start`` indented deeper than
        ``indent``, blank lines between them included, trailing ones not."""
        end = last = start
        while end < stop and (self.blank(end) or _indent(self.lines[end]) > indent):
            if not self.blank(end):
                last = end + 1
            end += 1
        return last

    def mark(self, first: int, end: int, kind: str,
             block: tuple[int, int] | None = None) -> None:
        for n in range(first, end):
            if not self.blank(n):
                self.kinds[n] = kind
            self.blocks[n] = block or self.blocks[n]

    def level(self, style: tuple[str, bool]) -> int:
        if style not in self.styles:
            self.styles.append(style)
        return self.styles.index(style) + 1

    def read(self, begin: int, stop: int) -> None:
        n = begin
        while n < stop:
            if self.blank(n):
                n += 1
                continue
            n = self.step(n, stop)

    def step(self, n: int, stop: int) -> int:
        """Read the construct that starts at line ``n``; the line after it."""
        line = self.lines[n]
        text = line.strip()
        indent = _indent(line)
        after = self.lines[n + 1].rstrip() if n + 1 < stop else ""
        if indent == 0 and _ADORNMENT.fullmatch(text):
            title = self.lines[n + 1].strip() if n + 1 < stop else ""
            if (title and n + 2 < stop and not _ADORNMENT.fullmatch(title)
                    and self.lines[n + 2].strip()[:1] == text[0]
                    and _ADORNMENT.fullmatch(self.lines[n + 2].strip())):
                self.titles[n + 1] = (self.level((text[0], True)), title)
                self.kinds[n], self.kinds[n + 1], self.kinds[n + 2] = MARKUP, HEADING, MARKUP
                return n + 3
            if len(text) >= 4 and not after.strip():  # a transition
                self.kinds[n] = MARKUP
                return n + 1
        if (indent == 0 and after and _ADORNMENT.fullmatch(after)
                and len(after) >= min(len(text), 4) and not _ADORNMENT.fullmatch(text)
                and not _GRID_BORDER.fullmatch(after) and not _SIMPLE_BORDER.fullmatch(after)):
            self.titles[n] = (self.level((after[0], False)), text)
            self.kinds[n], self.kinds[n + 1] = HEADING, MARKUP
            return n + 2
        if _EXPLICIT.match(line):
            return self.explicit(n, stop, indent)
        if _GRID_BORDER.fullmatch(line):
            return self.grid_table(n, stop)
        if _SIMPLE_BORDER.fullmatch(line):
            return self.simple_table(n, stop)
        if text.startswith(">>>"):  # a doctest block: up to the next blank line
            end = n
            while end < stop and not self.blank(end):
                end += 1
            self.mark(n, end, CODE, (n + 1, end))
            return end
        return self.paragraph(n, stop, indent)

    def paragraph(self, n: int, stop: int, indent: int) -> int:
        """A paragraph or list item: its lines up to a blank line, a new item, or a line
        indented otherwise; then the literal block it introduces with ``::``."""
        item = _ITEM.match(self.lines[n]) is not None
        end = n + 1
        while end < stop and not self.blank(end):
            here = self.lines[end]
            deeper = _indent(here) > indent
            if (_ITEM.match(here) and not deeper) or _EXPLICIT.match(here) or (
                    not item and _indent(here) != indent) or (item and not deeper):
                break
            end += 1
        self.mark(n, end, TEXT, (n + 1, end))
        if self.lines[end - 1].rstrip().endswith("::"):
            if self.lines[n].strip() == "::" and end == n + 1:
                self.kinds[n] = MARKUP
            return self.literal(end, stop, indent)
        return end

    def literal(self, n: int, stop: int, indent: int) -> int:
        """The indented literal block after a paragraph ending in ``::``."""
        first = n
        while first < stop and self.blank(first):
            first += 1
        if first >= stop or _indent(self.lines[first]) <= indent:
            return n
        end = self.body_end(first, stop, indent)
        self.mark(first, end, CODE, (first + 1, end))
        return end

    def explicit(self, n: int, stop: int, indent: int) -> int:
        """A directive, comment, target or substitution definition and its body."""
        end = self.body_end(n + 1, stop, indent)
        directive = _DIRECTIVE.match(self.lines[n])
        if directive is None:  # a comment, ``.. _target:``, ``.. |name| image::``
            self.mark(n, max(end, n + 1), MARKUP)
            return max(end, n + 1)
        name = directive.group(1).lower().rsplit(":", 1)[-1]
        argument = (directive.group(2) or "").strip()
        content = n + 1
        while content < end and self.lines[content].strip().startswith(":") and \
                not self.blank(content):
            self.kinds[content] = MARKUP  # the options
            content += 1
        if name in CODE_DIRECTIVES:
            self.mark(n, end, CODE, (n + 1, max(end, n + 1)))
            self.kinds[n] = FENCE
            for option in range(n + 1, content):
                self.kinds[option] = MARKUP
            return max(end, n + 1)
        if name in NOTHING_DIRECTIVES:
            self.mark(n, max(end, n + 1), MARKUP)
            return max(end, n + 1)
        # Prose: a version note or an API signature says something on its head line; an
        # admonition's bare head does not.
        self.kinds[n] = TEXT if argument else MARKUP
        self.blocks[n] = (n + 1, n + 1)
        if argument and name not in _VERSION_WORDS:  # an API entry, a titled admonition
            label = search_text(argument)
            for inner in range(content, end):
                self.about[inner] = label
        self.read(content, end)
        return max(end, n + 1)

    def grid_table(self, n: int, stop: int) -> int:
        end = n
        while end < stop and not self.blank(end):
            end += 1
        header_border = next((b for b in range(n + 1, end)
                              if _GRID_BORDER.fullmatch(self.lines[b]) and "=" in self.lines[b]),
                             None)
        header = n + 1 if header_border is not None else None
        for row in range(n, end):
            border = _GRID_BORDER.fullmatch(self.lines[row]) is not None
            self.kinds[row] = MARKUP if border else TABLE
            self.blocks[row] = (n + 1, end)
            if not border and header is not None and header_border is not None \
                    and row > header_border:
                self.headers[row] = header + 1
        return end

    def simple_table(self, n: int, stop: int) -> int:
        borders = [n]
        end = n + 1
        while end < stop:
            if _SIMPLE_BORDER.fullmatch(self.lines[end]):
                borders.append(end)
                following = end + 1
                if following >= stop or self.blank(following):
                    end = following
                    break
            end += 1
        header = borders[0] + 1 if len(borders) >= 3 and borders[1] > borders[0] + 1 else None
        for row in range(n, end):
            if self.blank(row) or row in borders:
                self.kinds[row] = MARKUP
            else:
                self.kinds[row] = TABLE
                if header is not None and row > borders[1]:
                    self.headers[row] = header + 1
            self.blocks[row] = (n + 1, end)
        return end


_ROLE = re.compile(r":(?:[\w.+-]+:)+`([^`]*)`")
_REFERENCE = re.compile(r"`([^`<]*?)\s*<[^`>]*>`__?")
_NAMED = re.compile(r"`([^`]+)`(?:__?)?")  # a named reference, or the default role
_LITERAL = re.compile(r"``(.+?)``")
_STRONG = re.compile(r"(\*\*|\*)(?=\S)(.+?)(?<=\S)\1")
_FOOTNOTE = re.compile(r"\s?\[(?:#\w*|\*|\d+)\]_")
_SUBSTITUTION = re.compile(r"\|([^|\s][^|]*)\|_{0,2}")


def _role_text(match: re.Match[str]) -> str:
    inner = match.group(1)
    shown = re.fullmatch(r"(.*?)\s*<[^<>]*>", inner)  # :ref:`the text <label>`
    if shown and shown.group(1):
        return shown.group(1)
    inner = inner.lstrip("!")
    if inner.startswith("~"):  # :func:`~httpx.get` shows "get"
        return inner[1:].rsplit(".", 1)[-1]
    return inner


def search_text(text: str) -> str:
    """``text`` as a reader of the built page hears it: roles by their text, literals
    and emphasis without their marks, references by their words, a version note by its
    words, a directive's head by its name and argument."""
    directive = _DIRECTIVE.match(text)
    if directive:
        name = directive.group(1).rsplit(":", 1)[-1].lower()
        argument = (directive.group(2) or "").strip()
        head = _VERSION_WORDS.get(name, name.replace("-", " ").capitalize())
        text = f"{head} {argument}".strip()
    text = _ROLE.sub(_role_text, text)
    text = _LITERAL.sub(r"\1", text)
    text = _REFERENCE.sub(r"\1", text)
    text = _NAMED.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _FOOTNOTE.sub("", text)
    text = _SUBSTITUTION.sub(r"\1", text)
    text = re.sub(r"\s*::$", ":", text.rstrip())
    text = re.sub(r"^(\s*):([^:\s][^:]*):", r"\1\2:", text)  # a field list's name
    return text.lstrip("-*+\u2022 ").strip()
