"""Reading a corpus folder into line-numbered documents.

A corpus is every ``.txt``, ``.md``, ``.rst``, ``.html`` and ``.pdf`` file under a folder (hidden
files and folders excepted; a symlink counts only when the file it leads to lies inside
the folder, so a link to ``/etc/passwd`` is skipped with a warning and never read). An
HTML file's lines are what a browser shows on each of them (``rag.html``); a PDF's are
its pages' extracted lines, each page after a form-feed line (``rag.pdf``).

Lines are numbered from 1 exactly as an editor numbers them: the file is split
on ``\\n`` only (``str.splitlines`` would also split on form feeds and Unicode separators
and shift every later line), a trailing ``\\r`` is dropped, and a final newline does not
start an extra line. Files that are not UTF-8 text are skipped with a warning naming them.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CitationError, CorpusError, LargeFileWarning, SkippedFileWarning
from rag.formats import SUFFIXES, file_format
from rag.html import html_lines
from rag.pdf import UnreadablePdf, pdf_lines

__all__ = [
    "TEXT_SUFFIXES",
    "Corpus",
    "CorpusFile",
    "Document",
    "FileStamp",
    "corpus_root",
    "document_lines",
    "file_sha256",
    "list_corpus",
    "load_corpus",
    "no_documents",
    "quote_lines",
    "quote_of",
    "read_documents",
    "read_lines",
    "scan_corpus",
    "split_lines",
    "warn_if_large",
]

TEXT_SUFFIXES = SUFFIXES
LARGE_FILE_BYTES = 5 * 2**20
"""Files this big get a ``LargeFileWarning``: at a few hundred sentences a second, about
ten minutes of embedding."""


@dataclass(frozen=True)
class FileStamp:
    """What a cheap ``stat`` says about a file: enough to notice it changed."""

    source: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Document:
    """One text file: ``lines[i]`` is line ``i + 1``."""

    source: str
    lines: tuple[str, ...]
    sha256: str
    stamp: FileStamp

    def quote(self, start_line: int, end_line: int) -> str:
        """Lines ``start_line..end_line`` (1-based, inclusive) joined by ``\\n``."""
        return quote_of(self.lines, self.source, start_line, end_line)


@dataclass(frozen=True)
class CorpusFile:
    """A text file of a corpus before it is read: where it is, and its stamp."""

    path: str
    stamp: FileStamp

    @property
    def source(self) -> str:
        return self.stamp.source


@dataclass(frozen=True)
class Corpus:
    root: Path
    documents: tuple[Document, ...]
    skipped: tuple[str, ...]

    def by_source(self) -> dict[str, Document]:
        return {doc.source: doc for doc in self.documents}


def split_lines(text: str) -> tuple[str, ...]:
    """Split text into lines as editors number them (see the module docstring)."""
    if not text:
        return ()
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return tuple(part[:-1] if part.endswith("\r") else part for part in parts)


def scan_corpus(root: Path) -> list[FileStamp]:
    """Stat every text file under ``root``, sorted by source; raises ``CorpusError``.
    Every question runs it (is the index still the corpus's?), so it stays on strings
    and one ``stat`` a file: pathlib's parsing made it 15 ms a question at 528 files."""
    return [FileStamp(source, st.st_size, st.st_mtime_ns)
            for source, _, st in _text_files(corpus_root(root))[0]]


def load_corpus(root: Path) -> Corpus:
    """Read every text file under ``root``; raises ``CorpusError`` if there is none. A
    build reads the files it cuts through ``read_documents`` instead, a group at a time."""
    files, skipped = list_corpus(root)
    documents = []
    for doc in read_documents(files, skipped):
        warn_if_large(doc)
        documents.append(doc)
    if not documents:
        raise no_documents(root, skipped)
    return Corpus(root=corpus_root(root), documents=tuple(documents), skipped=tuple(skipped))


def list_corpus(root: Path) -> tuple[list[CorpusFile], list[str]]:
    """Every text file under ``root``, sorted by source and not read yet; and the sources
    passed over (links out of the folder, paths too long), each with a warning."""
    found, passed_over = _text_files(corpus_root(root))
    for source, why in passed_over:
        warnings.warn(f"skipping {source}: {why}", SkippedFileWarning, stacklevel=3)
    files = [CorpusFile(path, FileStamp(source, st.st_size, st.st_mtime_ns))
             for source, path, st in found]
    return files, [source for source, _ in passed_over]


def file_sha256(file: CorpusFile, skipped: list[str]) -> str | None:
    """The SHA-256 of ``file``'s bytes, read a block at a time (none is held whole);
    None when it cannot be read, its source then added to ``skipped`` with a warning."""
    try:
        with open(file.path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:  # gone since the walk, unreadable, a name too long
        _skip(file.source, f"cannot read it ({exc.strerror})", skipped)
        return None


def read_documents(files: Iterable[CorpusFile], skipped: list[str]) -> Iterator[Document]:
    """Each of ``files`` as a document, read only when the one before has been taken, so
    a caller that lets each go holds one file at a time. A file that gives no document
    (gone since the walk, not UTF-8 text, a PDF without text) is added to ``skipped``
    with a warning naming it."""
    for file in files:
        try:
            data = Path(file.path).read_bytes()
        except OSError as exc:  # gone since the walk, unreadable, a name too long
            _skip(file.source, f"cannot read it ({exc.strerror})", skipped)
            continue
        try:
            lines = _document(file.source, data)
        except UnreadableFile as exc:
            _skip(file.source, str(exc), skipped)
            continue
        yield Document(source=file.source, lines=lines,
                       sha256=hashlib.sha256(data).hexdigest(), stamp=file.stamp)


def warn_if_large(doc: Document) -> None:
    """A ``LargeFileWarning`` for a document about to be embedded whose file is large."""
    if doc.stamp.size >= LARGE_FILE_BYTES:
        warnings.warn(
            f"{doc.source} is {doc.stamp.size / 2**20:.0f} MiB: every sentence of it is "
            "embedded, which takes a long time on a CPU (the progress line gives the rate)",
            LargeFileWarning, stacklevel=3,
        )


def no_documents(root: Path, skipped: Sequence[str]) -> CorpusError:
    """The error of a corpus with no file to index."""
    why = f" ({len(skipped)} skipped: see the warnings)" if skipped else ""
    return CorpusError(
        f"corpus {corpus_root(root)} has no readable .txt, .md, .rst, .html or .pdf files{why}")


def _skip(source: str, why: str, skipped: list[str]) -> None:
    skipped.append(source)
    warnings.warn(f"skipping {source}: {why}", SkippedFileWarning, stacklevel=4)


def quote_lines(root: Path, source: str, start_line: int, end_line: int) -> str:
    """Read the current file ``source`` under ``root`` and return the cited lines.

    Raises ``CitationError`` if the file is gone, unreadable, or the lines do not exist.
    """
    return quote_of(read_lines(root, source), source, start_line, end_line)


def quote_of(lines: Sequence[str], source: str, start_line: int, end_line: int) -> str:
    """Lines ``start_line..end_line`` (1-based, inclusive) of ``source``'s ``lines``,
    joined by ``\\n``; ``CitationError`` if they do not exist."""
    if not 1 <= start_line <= end_line <= len(lines):
        raise CitationError(f"{source}: lines {start_line}-{end_line} are outside 1-{len(lines)}")
    return "\n".join(lines[start_line - 1 : end_line])


def read_lines(root: Path, source: str) -> tuple[str, ...]:
    """The lines of the current file ``source`` under ``root``; ``CitationError`` if the
    file is outside the corpus, gone, or not UTF-8 text."""
    root = root.resolve()
    path = root / source
    # The file may be a symlink, but like every file the corpus reader indexes, what it
    # leads to must lie inside the corpus (a link to /etc/passwd is never read).
    inside = Path(os.path.normpath(path)).is_relative_to(root)
    if not inside or not _inside(root, path):
        raise CitationError(f"citation source {source!r} is outside the corpus")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CitationError(f"cannot read cited file {source}: {exc.strerror}") from exc
    try:
        return _document(source, data)
    except UnreadableFile as exc:
        raise CitationError(f"cited file {source}: {exc}") from exc


class UnreadableFile(Exception):
    """Why a file gives no document: its message is the reason."""


def _document(source: str, data: bytes) -> tuple[str, ...]:
    """The lines of a file as rag numbers and quotes them; ``UnreadableFile`` says why
    there are none (not UTF-8 text, a PDF without text)."""
    if file_format(source) == "pdf":
        try:
            return pdf_lines(data)
        except UnreadablePdf as exc:
            raise UnreadableFile(str(exc)) from exc
    text = _decode(data)
    if text is None:
        raise UnreadableFile("not UTF-8 text")
    return document_lines(source, text)


def document_lines(source: str, text: str) -> tuple[str, ...]:
    """The lines of a file's text as rag numbers and quotes them: an HTML file's are what
    a reader sees on each of its lines (``rag.html``), any other's are its lines."""
    lines = split_lines(text)
    if file_format(source) == "html":
        return html_lines(lines)
    return lines


def corpus_root(root: Path) -> Path:
    """``root`` resolved; ``CorpusError`` if it is missing, not a folder, or a link that
    leads nowhere (a symlink loop)."""
    try:
        resolved = root.resolve(strict=True)
    except FileNotFoundError:
        raise CorpusError(f"corpus folder {root} does not exist") from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: pathlib's "Symlink loop"
        raise CorpusError(f"corpus folder {root} cannot be opened: {exc}") from None
    if not resolved.is_dir():
        raise CorpusError(f"corpus {root} is not a folder")
    return resolved


def _inside(root: Path, path: Path | str) -> bool:
    """Whether ``path``, its links followed, lies under the resolved ``root``."""
    return Path(os.path.realpath(path)).is_relative_to(root)


def _text_files(
    root: Path,
) -> tuple[list[tuple[str, str, os.stat_result]], list[tuple[str, str]]]:
    """Each text file under ``root`` as (source, path, stat), sorted by source: its name
    not hidden and of a text suffix, a regular file (a symlink to one counts when the
    file it leads to lies inside ``root``; symlinked folders are not entered), under no
    hidden folder. Also (source, why) of the text files passed over: links that lead
    outside ``root`` (never read) and paths the system cannot open (too long)."""
    found = []
    passed_over = []
    top = str(root)
    prefix = top.rstrip(os.sep) + os.sep

    def unlisted(exc: OSError) -> None:  # a folder that cannot be listed (path too long)
        if exc.errno == errno.ENOENT:  # removed since the walk saw it
            return
        name = os.path.relpath(exc.filename, top).replace(os.sep, "/") if exc.filename else top
        passed_over.append((name + "/", f"cannot list this folder ({exc.strerror})"))

    for dirpath, dirnames, filenames in os.walk(top, onerror=unlisted):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        folder = dirpath[len(prefix) :].replace(os.sep, "/") if dirpath != top else ""
        for name in filenames:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in TEXT_SUFFIXES:
                continue
            path = os.path.join(dirpath, name)
            source = f"{folder}/{name}" if folder else name
            try:
                st = os.stat(path)
            except OSError as exc:  # a link that leads nowhere, or a file gone since the walk
                if exc.errno == errno.ENAMETOOLONG:
                    passed_over.append((source, "its path is too long to open"))
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            if os.path.islink(path) and not _inside(root, path):
                passed_over.append((source, "a link to a file outside the corpus folder"))
            else:
                found.append((source, path, st))
    found.sort(key=lambda entry: entry[0])
    return found, sorted(passed_over)


def _decode(data: bytes) -> str | None:
    """The text of a file, or None when it is binary or not UTF-8."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
