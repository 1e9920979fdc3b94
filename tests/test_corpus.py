"""Reading a corpus folder: line numbers as editors count them, which files are read,
which are skipped (and named), and the errors for folders that hold nothing to read."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.corpus import LARGE_FILE_BYTES, load_corpus, quote_lines, scan_corpus, split_lines
from rag.errors import (
    CitationError,
    CorpusError,
    InputError,
    LargeFileWarning,
    SkippedFileWarning,
)

WriteFiles = Callable[[Path, dict[str, str | bytes]], Path]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", ()),
        ("one", ("one",)),
        ("one\n", ("one",)),
        ("one\ntwo\n", ("one", "two")),
        ("one\n\nthree", ("one", "", "three")),
        ("one\n\n", ("one", "")),
        ("\n", ("",)),
        ("one\r\ntwo\r\n", ("one", "two")),
        ("one\r\n\r\nthree", ("one", "", "three")),
        ("page one\x0cpage two\nnext", ("page one\x0cpage two", "next")),
        (
            "a\u2028b\u2029c\x1c\x1d\x1e\x85d\x0be\nf",
            ("a\u2028b\u2029c\x1c\x1d\x1e\x85d\x0be", "f"),
        ),
    ],
)
def test_split_lines_counts_as_editors_do(text: str, lines: tuple[str, ...]) -> None:
    assert split_lines(text) == lines


def test_separators_inside_a_line_do_not_shift_later_lines(
    corpus_dir: Path, write_files: WriteFiles
) -> None:
    write_files(corpus_dir, {"a.txt": "intro\x0cstill line one\nline\u2028two\nthe third line\n"})
    doc = load_corpus(corpus_dir).documents[0]
    assert len(doc.lines) == 3
    assert doc.lines[2] == "the third line"
    assert doc.quote(3, 3) == "the third line"


def test_bom_and_crlf_are_removed(corpus_dir: Path, write_files: WriteFiles) -> None:
    write_files(corpus_dir, {"a.txt": "\ufefffirst\r\nsecond\r\n".encode()})
    doc = load_corpus(corpus_dir).documents[0]
    assert doc.lines == ("first", "second")
    assert quote_lines(corpus_dir, "a.txt", 1, 2) == "first\nsecond"


def test_hidden_files_and_folders_and_other_suffixes_are_skipped(
    corpus_dir: Path, write_files: WriteFiles
) -> None:
    write_files(
        corpus_dir,
        {
            "a.txt": "a",
            "B.MD": "b",
            ".hidden.txt": "hidden file",
            ".git/notes.md": "hidden folder",
            "sub/.secret.md": "hidden file in a folder",
            "notes.rst": "reStructuredText is read",
            "data.json": "{}",
            "folder.md/inside.json": "a folder with a text suffix is not a file",
        },
    )
    os.symlink(corpus_dir / "nowhere.txt", corpus_dir / "broken.txt")  # leads nowhere
    sources = [doc.source for doc in load_corpus(corpus_dir).documents]
    assert sources == ["B.MD", "a.txt", "notes.rst"]
    assert [s.source for s in scan_corpus(corpus_dir)] == sources


def test_nested_folders_give_posix_sources_in_sorted_order(
    corpus_dir: Path, write_files: WriteFiles
) -> None:
    write_files(
        corpus_dir,
        {"sub/x.md": "x", "sub/deeper/y.txt": "y", "z.txt": "z", "a.txt": "a"},
    )
    corpus = load_corpus(corpus_dir)
    assert [doc.source for doc in corpus.documents] == [
        "a.txt",
        "sub/deeper/y.txt",
        "sub/x.md",
        "z.txt",
    ]
    assert corpus.by_source()["sub/x.md"].lines == ("x",)
    assert quote_lines(corpus_dir, "sub/deeper/y.txt", 1, 1) == "y"


def test_binary_and_non_utf8_files_are_skipped_and_named(
    corpus_dir: Path, write_files: WriteFiles
) -> None:
    write_files(
        corpus_dir,
        {
            "good.txt": "readable",
            "binary.txt": b"PK\x03\x04\x00\x00binary",
            "latin1.md": "caf\u00e9 cr\u00e8me".encode("latin-1"),
        },
    )
    with pytest.warns(SkippedFileWarning) as record:
        corpus = load_corpus(corpus_dir)
    messages = " ".join(str(w.message) for w in record)
    assert "binary.txt" in messages
    assert "latin1.md" in messages
    assert [doc.source for doc in corpus.documents] == ["good.txt"]
    assert corpus.skipped == ("binary.txt", "latin1.md")


def test_a_large_file_is_warned_of_before_it_is_embedded(
    corpus_dir: Path, write_files: WriteFiles
) -> None:
    line = "The harbour master logged the tide at the pier again today.\n"
    write_files(corpus_dir, {"small.txt": line,
                             "log.txt": line * (LARGE_FILE_BYTES // len(line) + 1)})
    with pytest.warns(LargeFileWarning, match=r"log\.txt is 5 MiB") as caught:
        load_corpus(corpus_dir)
    assert len(caught) == 1


def test_document_records_hash_and_stamp(corpus_dir: Path, write_files: WriteFiles) -> None:
    write_files(corpus_dir, {"a.txt": "hello\n"})
    doc = load_corpus(corpus_dir).documents[0]
    st = (corpus_dir / "a.txt").stat()
    assert (doc.stamp.size, doc.stamp.mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert doc.sha256 == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"


def test_missing_folder_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(CorpusError):
        scan_corpus(tmp_path / "nowhere")


def test_a_file_is_not_a_corpus(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("text")
    with pytest.raises(CorpusError, match="not a folder"):
        load_corpus(path)


def test_empty_folder_is_a_corpus_error(corpus_dir: Path, write_files: WriteFiles) -> None:
    write_files(corpus_dir, {"report.docx": "not read", ".hidden.txt": "hidden"})
    with pytest.raises(CorpusError, match="no readable"):
        load_corpus(corpus_dir)


def test_folder_of_only_binary_files_is_a_corpus_error(
    corpus_dir: Path, write_files: WriteFiles
) -> None:
    write_files(corpus_dir, {"a.txt": b"\x00\x01", "b.md": b"\xff\xfe\x00x"})
    with (
        pytest.warns(SkippedFileWarning),
        pytest.raises(CorpusError, match="2 skipped") as info,
    ):
        load_corpus(corpus_dir)
    assert isinstance(info.value, InputError)


def test_quote_lines_reads_the_current_file(corpus_dir: Path, write_files: WriteFiles) -> None:
    write_files(corpus_dir, {"a.txt": "one\ntwo\nthree\n"})
    assert quote_lines(corpus_dir, "a.txt", 2, 3) == "two\nthree"
    (corpus_dir / "a.txt").write_text("uno\ndos\ntres\n")
    assert quote_lines(corpus_dir, "a.txt", 2, 2) == "dos"


@pytest.mark.parametrize(
    ("source", "start", "end"),
    [
        ("../outside.txt", 1, 1),
        ("sub/../../outside.txt", 1, 1),
        ("a.txt", 0, 1),
        ("a.txt", 1, 4),
        ("a.txt", 3, 2),
        ("a.txt", 4, 4),
        ("gone.txt", 1, 1),
        ("binary.txt", 1, 1),
    ],
)
def test_quote_lines_refuses_what_does_not_resolve(
    tmp_path: Path, write_files: WriteFiles, source: str, start: int, end: int
) -> None:
    root = write_files(tmp_path / "corpus", {"a.txt": "one\ntwo\nthree\n", "binary.txt": b"\0"})
    write_files(tmp_path, {"outside.txt": "secret\n"})
    with pytest.raises(CitationError):
        quote_lines(root, source, start, end)


def test_quote_lines_refuses_an_absolute_path(corpus_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("secret\n")
    with pytest.raises(CitationError, match="outside"):
        quote_lines(corpus_dir, str(tmp_path / "outside.txt"), 1, 1)


def test_document_quote_refuses_out_of_range(corpus_dir: Path, write_files: WriteFiles) -> None:
    write_files(corpus_dir, {"a.txt": "one\ntwo\n"})
    doc = load_corpus(corpus_dir).documents[0]
    assert doc.quote(1, 2) == "one\ntwo"
    with pytest.raises(CitationError):
        doc.quote(2, 3)


def test_a_symlink_counts_only_when_it_leads_inside_the_corpus(
    tmp_path: Path, write_files: WriteFiles
) -> None:
    """A link to a file inside the corpus is read and quotable; a link to a file outside
    (the target needs no text suffix) is skipped with a warning and its citations refused;
    a symlinked folder is never entered."""
    outside = write_files(tmp_path / "outside", {"b": "secret line\n", "d/c.txt": "c\n"})
    root = write_files(tmp_path / "corpus", {"a.txt": "own line\n"})
    os.symlink(root / "a.txt", root / "alias.txt")
    os.symlink(outside / "b", root / "b.txt")
    os.symlink(outside / "d", root / "d")
    with pytest.warns(SkippedFileWarning, match="b.txt: a link to a file outside"):
        corpus = load_corpus(root)
    assert [doc.source for doc in corpus.documents] == ["a.txt", "alias.txt"]
    assert corpus.skipped == ("b.txt",)
    assert quote_lines(root, "alias.txt", 1, 1) == "own line"
    for source in ("b.txt", "d/c.txt"):
        with pytest.raises(CitationError, match="outside"):
            quote_lines(root, source, 1, 1)
