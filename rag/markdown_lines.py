"""Reading a structured file's lines as an answer quotes them: the code block a line is
in, the one it introduces, a table row with its header, and how far a piece of code must
reach to read on its own.

It sits beside the Markdown reader (``rag.markdown``) and reads the roles that reader and
the others give (``rag.formats.line_roles``), but lives in a module of its own: the
readers' modules are hashed byte for byte into the index's cutting fingerprint
(``rag.index.manifest.CUTTING``), so code added to them would cut every index again,
while nothing here changes how a file is cut.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.corpus import read_lines
from rag.formats import is_structured, line_roles, table_cells
from rag.roles import CODE, FENCE, TABLE, TEXT, Role
from rag.types import Passage

__all__ = ["MarkdownLines", "standalone_code"]

# Prose that introduces what follows: "Use a transport:", "For example..."
_INTRO = re.compile(r"(?::|\.\.\.|\u2026)\s*$")


class MarkdownLines:
    """What the structure of a Markdown file says about a line, read from the file as it
    is: the code block a line is in, the one it introduces (prose ending in a colon or an
    ellipsis, then the block), the header row of a table row."""

    MAX_LINES = 12  # a longer block is not quoted whole: its one matching line is

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, tuple[tuple[str, ...], tuple[Role, ...]]] = {}

    def lines(self, source: str) -> tuple[str, ...]:
        """The lines of a Markdown file (none for another), read once per instance."""
        return self._file(source)[0]

    def around(self, source: str, line: int) -> tuple[int, int] | None:
        """The code lines of the block holding ``line``, if it is a short block."""
        roles = self._roles(source)
        if not roles or roles[line - 1].kind != CODE:
            return None
        return self._short(roles, roles[line - 1].block)

    def after(self, source: str, line: int) -> tuple[int, int] | None:
        """The code lines of a short block that ``line`` introduces."""
        lines, roles = self._file(source)
        if not roles or roles[line - 1].kind != TEXT or not _INTRO.search(lines[line - 1]):
            return None
        following = line
        while following < len(roles) and not lines[following].strip():
            following += 1
        if following < len(roles) and roles[following].kind in (CODE, FENCE):
            return self._short(roles, roles[following].block)
        return None

    def is_code(self, passage: Passage) -> bool:
        """Whether the passage is a line of a Markdown code block."""
        roles = self._roles(passage.source)
        return bool(roles) and roles[passage.start_line - 1].kind == CODE

    def table_row(self, source: str, line: int) -> tuple[int, str] | None:
        """A table row's header line, and the row read with it ("Weight (kg): 30")."""
        roles = self._roles(source)
        if not roles or roles[line - 1].kind != TABLE:
            return None
        header = roles[line - 1].header
        if header is None or header == line:
            return None
        lines = self.lines(source)
        return header, table_cells(lines[line - 1], lines[header - 1])

    def readable(self, passage: Passage) -> Passage:
        """A table row as its cells with their column names, for judging; any other
        passage as it is."""
        if passage.start_line != passage.end_line:
            return passage
        row = self.table_row(passage.source, passage.start_line)
        return passage.model_copy(update={"text": row[1]}) if row else passage

    def _roles(self, source: str) -> tuple[Role, ...]:
        return self._file(source)[1]

    def _file(self, source: str) -> tuple[tuple[str, ...], tuple[Role, ...]]:
        if not is_structured(source):
            return (), ()
        if source not in self._files:
            lines = read_lines(self.root, source)
            self._files[source] = (lines, line_roles(lines, source))
        return self._files[source]

    def _short(self, roles: tuple[Role, ...], block: tuple[int, int]) -> tuple[int, int] | None:
        code = [n for n in range(block[0], block[1] + 1) if roles[n - 1].kind == CODE]
        if not code or len(code) > self.MAX_LINES:
            return None
        return code[0], code[-1]


_ASSIGNED = re.compile(r"^\s*(?:>>>\s*)?([A-Za-z_]\w*)\s*=(?!=)")


def standalone_code(lines: tuple[str, ...], top: int, first: int, last: int) -> tuple[int, int]:
    """The quote's first and last lines once it holds whole statements (a dict literal
    from its opening line to its closing one) and where each name its lines use is set,
    within the block from ``top`` (``ssl_object = ...`` before ``ssl_object.version()``):
    quoted code should read on its own."""
    depth = [0]  # open brackets before each line of the block, from ``top``
    for line in lines[top - 1 :]:
        depth.append(max(0, depth[-1] + _balance(line)))
    while True:
        while first > top and depth[first - top] > 0:
            first -= 1
        while last < len(lines) and depth[last - top + 1] > 0:
            last += 1
        used = {name for line in lines[first - 1 : last] for name in re.findall(r"\w+", line)}
        earlier = [n for n in range(top, first)
                   if (m := _ASSIGNED.match(lines[n - 1])) and m.group(1) in used]
        if not earlier:
            return first, last
        first = earlier[0]


def _balance(line: str) -> int:
    """Brackets a line opens less those it closes, outside its strings."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "", line).split("#")[0]
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")
