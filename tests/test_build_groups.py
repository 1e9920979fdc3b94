"""A build cuts and embeds its changed files a group at a time (``GROUP_CHARS``), so that
it never holds the whole corpus: in groups it writes the same records and manifest as in
one, an interruption after a group leaves the previous index answering, and a file that
changes between the count and the embedding is indexed as it is then."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rag.index.groups
from rag.embeddings import MiniLMEmbedder
from rag.engine import Engine
from rag.index.build import Builder
from rag.retrieval import Retriever
from rag.store import LEVELS, IndexStore

WriteFiles = Callable[[Path, dict[str, str | bytes]], Path]
MakeEngine = Callable[..., Engine]

TOWNS = ("Aston", "Bexley", "Carrow", "Dunmere", "Elton")
QUESTION = "When was the bridge of Carrow built?"


def town(name: str, year: int) -> str:
    return (f"{name}\n\nThe bridge of {name} was built in {year}. It has {year % 7 + 2} "
            f"arches.\nThe harbour of {name} holds {year % 11 + 3} cranes.\n")


@pytest.fixture
def corpus(tmp_path: Path, write_files: WriteFiles) -> Path:
    files: dict[str, str | bytes] = {f"{name.lower()}.txt": town(name, 1900 + 7 * n)
                                     for n, name in enumerate(TOWNS)}
    files["notes/ferry.md"] = "# Ferry\n\nThe ferry to Carrow leaves at nine.\n"
    return write_files(tmp_path / "corpus", files)


@pytest.fixture
def levels_written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The level of each batch a build writes, in order."""
    written: list[str] = []
    real_add = Builder._add

    def add(self: Builder, level: str, batch: Any, vectors: Any) -> int:
        written.append(level)
        return real_add(self, level, batch, vectors)

    monkeypatch.setattr(Builder, "_add", add)
    return written


def records(engine: Engine) -> dict[str, dict[str, tuple[str, Any]]]:
    """Each level's records by id (written in another order, read back in that order)."""
    got = {level: engine.store.collections[level].get(include=["documents", "metadatas"])
           for level in LEVELS}
    return {level: dict(zip(got[level]["ids"], zip(got[level]["documents"],
                                                    got[level]["metadatas"], strict=True),
                            strict=True)) for level in LEVELS}


def test_a_build_in_groups_writes_what_a_build_in_one_does(
    corpus: Path, tmp_path: Path, make_engine: MakeEngine, levels_written: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole = make_engine(corpus, tmp_path / "whole")
    whole.build()
    assert levels_written == ["chunks", "sentences"]  # one group: every chunk, then sentences
    levels_written.clear()

    monkeypatch.setattr(rag.index.groups, "GROUP_CHARS", 1)  # a file a group
    grouped = make_engine(corpus, tmp_path / "grouped")
    progress: list[tuple[int, int]] = []
    stats = grouped.build(progress=lambda done, total: progress.append((done, total)))
    assert levels_written == ["chunks", "sentences"] * 6
    assert stats.added == ["aston.txt", "bexley.txt", "carrow.txt", "dunmere.txt",
                           "elton.txt", "notes/ferry.md"]
    # The total is known before the first record, and the count never goes back.
    assert {total for _, total in progress} == {stats.embedded}
    assert progress[0] == (0, stats.embedded)
    assert progress[-1] == (stats.embedded, stats.embedded)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)

    assert grouped.store.manifest_path.read_bytes() == whole.store.manifest_path.read_bytes()
    assert records(grouped) == records(whole)
    answer = grouped.ask(QUESTION)
    assert not answer.refused
    assert answer.citations == whole.ask(QUESTION).citations


def test_an_interrupted_build_in_groups_keeps_the_previous_index(
    corpus: Path, index_dir: Path, make_engine: MakeEngine, embedder: MiniLMEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(corpus, index_dir)
    engine.build()
    before = engine.ask(QUESTION)
    manifest_bytes = engine.store.manifest_path.read_bytes()
    paths = [corpus / f"{name.lower()}.txt" for name in TOWNS]
    indexed = {path: (path.read_bytes(), path.stat()) for path in paths}
    for n, path in enumerate(paths):
        path.write_text(town(TOWNS[n], 2000 + n))

    groups: list[object] = []
    real_write_group = Builder._write_group
    real_embed = embedder.embed

    def write_group(self: Builder, *args: Any) -> None:
        groups.append(args[0])
        real_write_group(self, *args)

    def embed(texts: Any) -> Any:
        if len(groups) > 1:
            raise RuntimeError("killed after the first group")
        return real_embed(texts)

    with monkeypatch.context() as patch:
        patch.setattr(rag.index.groups, "GROUP_CHARS", 1)
        patch.setattr(Builder, "_write_group", write_group)
        patch.setattr(embedder, "embed", embed)
        with pytest.raises(RuntimeError, match="killed"):
            engine.build()
    assert len(groups) == 2
    assert engine.store.manifest_path.read_bytes() == manifest_bytes
    # Another process searching the index finds only the committed records.
    store = IndexStore(corpus, index_dir, embedder)
    texts = [p.text for p in Retriever(store, store.read_manifest(), embedder).search(
        "When was the bridge of Elton built?", k=20)]
    assert any("1928" in text for text in texts)
    assert not any("2004" in text for text in texts)  # Elton's new version: written, not live
    # With the files back as they were indexed, it answers as before, without a build.
    for path, (data, st) in indexed.items():
        path.write_bytes(data)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert make_engine(corpus, index_dir).ask(QUESTION) == before
    assert engine.store.manifest_path.read_bytes() == manifest_bytes

    for n, path in enumerate(paths):
        path.write_text(town(TOWNS[n], 2000 + n))
    # The next build keeps the first group's records (the last file's) and embeds the rest.
    progress: list[tuple[int, int]] = []
    stats = engine.build(progress=lambda done, total: progress.append((done, total)))
    assert stats.updated == [f"{name.lower()}.txt" for name in TOWNS]
    elton = engine.store.read_manifest().files["elton.txt"].ids
    assert stats.embedded == stats.chunks + stats.sentences - 2 - sum(
        len(ids) for ids in elton.values())  # the ferry note's two were never changed
    assert progress[-1] == (stats.embedded, stats.embedded)
    assert "2002" in engine.ask(QUESTION).text


def test_a_file_changed_after_it_was_counted_is_indexed_as_it_is_then(
    corpus: Path, index_dir: Path, make_engine: MakeEngine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last group counted is embedded first, while it is still cut; the others are
    read again, and a file changed meanwhile is indexed as it then reads, the total of
    the progress moving by its difference."""
    real_write_group = Builder._write_group
    calls: list[object] = []

    def write_group(self: Builder, *args: Any) -> None:
        if not calls:  # the ferry note's group (the last) is written; Aston's is next
            (corpus / "aston.txt").write_text(town("Aston", 1850) + "It was painted red.\n")
        calls.append(args[0])
        real_write_group(self, *args)

    monkeypatch.setattr(rag.index.groups, "GROUP_CHARS", 1)
    monkeypatch.setattr(Builder, "_write_group", write_group)
    engine = make_engine(corpus, index_dir)
    progress: list[tuple[int, int]] = []
    stats = engine.build(progress=lambda done, total: progress.append((done, total)))
    assert progress[0][1] < stats.embedded == stats.chunks + stats.sentences
    assert progress[-1] == (stats.embedded, stats.embedded)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    monkeypatch.undo()
    passages = engine.retrieve("What colour was the bridge of Aston painted?", top_k=1)
    assert passages[0].source == "aston.txt"
    assert "red" in passages[0].text
