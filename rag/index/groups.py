"""The groups a build cuts and embeds its changed files in, so that it never holds the
whole corpus, and its progress, which counts every group before the first is embedded."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rag.chunking import Piece
from rag.corpus import CorpusFile, Document
from rag.index.manifest import Level

__all__ = ["GROUP_CHARS", "Cut", "Group", "Progress", "Tally", "grouped"]

GROUP_CHARS = 2 * 2**20
"""Characters of text cut and embedded as one group (at least one whole file), whose
documents and pieces are let go before the next group is read: a build holds one group's,
whatever the corpus's size. Held as lines and pieces, text takes some 17 times its size
(2 Mi characters, about 40k records: 35-40 MiB). Measured by benchmarks/build_memory.py,
the peak once every file is read and cut: 180 MiB at 5 MiB of text, 214 MiB at 60 (with
the whole corpus held: 211 and 837 MiB). Smaller groups would cost little (a group's
records are still many windows, sorted by length), but save little more."""

Progress = Callable[[int, int], None]
"""``progress(done, total)`` in records. A progress object that also has a method
``weighted(done, total, work_done, work_total)`` is called through it instead, the work
being the length of the pieces' text embedded so far and in all: records are embedded
shortest first within a group, so a rate in records would promise the long ones far too
soon. Both totals are known before the first record is embedded: the changed files are
cut once to count their records, a group at a time, each group let go once counted, then
cut again a group at a time to be embedded (the last group counted is still in memory,
and goes first). A file changed between the two moves the totals by its difference."""


@dataclass
class Cut:
    """A group's documents and their pieces; ``todo``: the pieces Chroma lacks."""

    docs: list[Document]
    pieces: dict[str, dict[Level, list[Piece]]]  # source -> level -> pieces
    todo: dict[Level, list[tuple[Document, Piece]]]  # level -> pieces to embed

    @property
    def records(self) -> int:
        return sum(len(todo) for todo in self.todo.values())

    @property
    def work(self) -> int:
        return sum(len(piece.text) for todo in self.todo.values() for _, piece in todo)


@dataclass
class Group:
    """Changed files cut and embedded together, with what they were counted to need;
    ``cut`` while their documents and pieces are held."""

    files: list[CorpusFile]
    records: int
    work: int
    cut: Cut | None


class Tally:
    """Records and characters embedded so far and in all, reported as ``Progress``."""

    def __init__(self, progress: Progress | None, groups: list[Group]) -> None:
        self.progress = progress
        self.weighted = getattr(progress, "weighted", None)
        self.done = self.work = 0
        self.total = sum(group.records for group in groups)
        self.work_total = sum(group.work for group in groups)

    def add(self, records: int, work: int) -> None:
        self.done += records
        self.work += work
        self.report()

    def report(self) -> None:
        if self.weighted is not None:
            self.weighted(self.done, self.total, self.work, self.work_total)
        elif self.progress:
            self.progress(self.done, self.total)


def grouped(docs: Iterable[Document], files: dict[str, CorpusFile],
            cut: Callable[[list[Document]], Cut]) -> list[Group]:
    """``docs`` in groups of about ``GROUP_CHARS``, each cut to count what it needs
    embedded and then let go, but for the last, which stays cut; ``files``: each
    document's file, read again to cut its group a second time."""
    groups: list[Group] = []
    held: list[Document] = []
    chars = 0
    for doc in docs:
        if held and chars >= GROUP_CHARS:
            groups.append(_counted([files[d.source] for d in held], cut(held)))
            groups[-1].cut = None
            held, chars = [], 0
        held.append(doc)
        chars += sum(len(line) for line in doc.lines)
    if held:
        groups.append(_counted([files[d.source] for d in held], cut(held)))
    return groups


def _counted(files: list[CorpusFile], cut: Cut) -> Group:
    return Group(files, cut.records, cut.work, cut)

