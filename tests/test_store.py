"""The index on disk: incremental builds, crashes that leave the previous index in use,
garbage collection of records no manifest names, and automatic refresh on ``ask``."""

from __future__ import annotations

import io
import json
import os
import shutil
import tokenize
import warnings
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import rag
import rag.index.build
import rag.index.chroma
import rag.index.copy
import rag.markdown
from rag.chunking import Piece
from rag.corpus import Document
from rag.embeddings import MiniLMEmbedder
from rag.engine import Engine
from rag.errors import CorpusError, IndexBuildError, SkippedFileWarning
from rag.index.build import Builder
from rag.index.manifest import code_digest
from rag.retrieval import Retriever
from rag.store import LEVELS, IndexStore, Manifest

WriteFiles = Callable[[Path, dict[str, str | bytes]], Path]
MakeEngine = Callable[..., Engine]

BRIDGE = "Bridges\n\nThe bridge over the river was built in 1932.\nIt has three arches.\n"
BRIDGE_V2 = "Bridges\n\nThe bridge over the river was rebuilt in 1951 after the flood.\n"
HARBOUR = "Harbour\n\nThe harbour has four cranes. Ships dock at the north pier.\n"
FOREST = "Forest\n\nThe forest covers twelve square kilometres of pine.\n"


@pytest.fixture
def corpus(tmp_path: Path, write_files: WriteFiles) -> Path:
    return write_files(
        tmp_path / "corpus", {"bridge.txt": BRIDGE, "harbour.txt": HARBOUR, "sub/forest.md": FOREST}
    )


@pytest.fixture
def engine(corpus: Path, index_dir: Path, make_engine: MakeEngine) -> Engine:
    return make_engine(corpus, index_dir)


def stored_ids(store: IndexStore, level: str) -> set[str]:
    return set(store.collections[level].get(include=[])["ids"])


def live_ids(store: IndexStore, source: str) -> dict[str, list[str]]:
    return store.read_manifest().files[source].ids


def assert_no_orphans(store: IndexStore) -> None:
    manifest = store.read_manifest()
    for level in LEVELS:
        assert stored_ids(store, level) == manifest.live_ids(level)


def test_first_build_embeds_everything(engine: Engine) -> None:
    progress: list[tuple[int, int]] = []
    stats = engine.build(progress=lambda done, total: progress.append((done, total)))
    assert stats.files == 3
    assert stats.added == ["bridge.txt", "harbour.txt", "sub/forest.md"]
    assert stats.updated == stats.removed == stats.skipped == []
    assert (stats.chunks, stats.sentences) == (6, 8)  # per file: title + paragraph
    assert stats.embedded == stats.chunks + stats.sentences > 0
    assert progress[0] == (0, stats.embedded)
    assert progress[-1] == (stats.embedded, stats.embedded)
    for level, expected in (("chunks", stats.chunks), ("sentences", stats.sentences)):
        assert engine.store.collections[level].count() == expected
    assert_no_orphans(engine.store)


def test_each_record_gets_its_own_vector_whatever_the_windows(
    corpus: Path, tmp_path: Path, make_engine: MakeEngine, embedder: MiniLMEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Records are embedded a window at a time (sorted by length inside it) and written in
    smaller batches in corpus order: with windows and batches that do not divide the
    records evenly, every record still holds the vector of its own text."""
    lines = [f"Line {n} says {'something longer ' * (n % 5)}about ferry {n}." for n in range(23)]
    (corpus / "ferries.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(rag.index.build, "EMBED_WINDOW", 7)
    monkeypatch.setattr(rag.index.build, "WRITE_BATCH", 3)
    odd = make_engine(corpus, tmp_path / "odd")
    odd.build()
    monkeypatch.undo()
    whole = make_engine(corpus, tmp_path / "whole")
    whole.build()
    for level in LEVELS:
        got = odd.store.collections[level].get(include=["documents", "embeddings"])
        assert len(got["ids"]) > 7
        theirs = whole.store.collections[level].get(ids=got["ids"], include=["embeddings"])
        by_id = dict(zip(theirs["ids"], theirs["embeddings"], strict=True))
        for rid, text, vector in zip(got["ids"], got["documents"], got["embeddings"],
                                     strict=True):
            assert list(vector) == list(by_id[rid])
            if rid.startswith("ferries.txt") and level == "sentences":
                # Chroma keeps its own normalised copy: equal to the last bits or so.
                assert np.allclose(vector, embedder.embed([text])[0], rtol=0, atol=1e-6)


def test_unchanged_corpus_embeds_nothing_and_keeps_ids(engine: Engine) -> None:
    first = engine.build()
    before = {src: entry.ids for src, entry in engine.store.read_manifest().files.items()}
    second = engine.build()
    assert second.embedded == 0
    assert second.added == second.updated == second.removed == []
    assert (second.chunks, second.sentences) == (first.chunks, first.sentences)
    after = {src: entry.ids for src, entry in engine.store.read_manifest().files.items()}
    assert after == before
    assert engine.store.is_fresh(engine.store.read_manifest())


def test_touching_a_file_does_not_re_embed_it(engine: Engine, corpus: Path) -> None:
    engine.build()
    ids = live_ids(engine.store, "bridge.txt")
    path = corpus / "bridge.txt"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert not engine.store.is_fresh(engine.store.read_manifest())
    stats = engine.build()
    assert stats.embedded == 0
    assert stats.updated == []
    assert live_ids(engine.store, "bridge.txt") == ids
    assert engine.store.is_fresh(engine.store.read_manifest())


def test_modified_file_re_embeds_only_its_own_pieces(engine: Engine, corpus: Path) -> None:
    engine.build()
    old_bridge = live_ids(engine.store, "bridge.txt")
    others = {s: live_ids(engine.store, s) for s in ("harbour.txt", "sub/forest.md")}
    (corpus / "bridge.txt").write_text(BRIDGE_V2)
    stats = engine.build()
    new_bridge = live_ids(engine.store, "bridge.txt")
    assert stats.updated == ["bridge.txt"]
    assert stats.added == stats.removed == []
    assert stats.embedded == sum(len(ids) for ids in new_bridge.values())
    assert {s: live_ids(engine.store, s) for s in others} == others
    for level in LEVELS:
        assert not set(old_bridge[level]) & set(new_bridge[level])
        assert not set(old_bridge[level]) & stored_ids(engine.store, level)
    assert_no_orphans(engine.store)
    passages = engine.retrieve("When was the bridge rebuilt?", top_k=1)
    assert passages[0].source == "bridge.txt"
    assert "1951" in passages[0].text


def test_new_file_is_added_alone(engine: Engine, corpus: Path, write_files: WriteFiles) -> None:
    engine.build()
    write_files(corpus, {"sub/deeper/lake.txt": "The lake is deep and cold.\n"})
    stats = engine.build()
    assert stats.added == ["sub/deeper/lake.txt"]
    assert stats.embedded == 2  # one window, one sentence
    assert stats.files == 4


def test_deleted_file_loses_only_its_records(engine: Engine, corpus: Path) -> None:
    engine.build()
    harbour = live_ids(engine.store, "harbour.txt")
    others = {s: live_ids(engine.store, s) for s in ("bridge.txt", "sub/forest.md")}
    (corpus / "harbour.txt").unlink()
    stats = engine.build()
    assert stats.removed == ["harbour.txt"]
    assert stats.embedded == 0
    assert stats.files == 2
    assert "harbour.txt" not in engine.store.read_manifest().files
    assert {s: live_ids(engine.store, s) for s in others} == others
    for level in LEVELS:
        assert engine.store.collections[level].get(ids=harbour[level])["ids"] == []
    assert_no_orphans(engine.store)
    assert all(p.source != "harbour.txt" for p in engine.retrieve("cranes at the harbour"))


def test_file_that_becomes_binary_is_removed_and_skipped(engine: Engine, corpus: Path) -> None:
    engine.build()
    (corpus / "harbour.txt").write_bytes(b"\x00\x01\x02 harbour")
    with pytest.warns(SkippedFileWarning, match="harbour.txt"):
        stats = engine.build()
    assert stats.removed == ["harbour.txt"]
    assert stats.skipped == ["harbour.txt"]
    assert_no_orphans(engine.store)
    # The skipped file's stamp is remembered: the index counts as fresh, so asking does not
    # rebuild every time.
    assert engine.store.is_fresh(engine.store.read_manifest())
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkippedFileWarning)
        engine.retrieve("harbour")


def test_crash_mid_build_keeps_the_previous_index(
    engine: Engine,
    corpus: Path,
    index_dir: Path,
    embedder: MiniLMEmbedder,
    make_engine: MakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine.build()
    manifest_bytes = engine.store.manifest_path.read_bytes()
    live_chunks = engine.store.collections["chunks"].count()
    path = corpus / "bridge.txt"
    v1_stat = path.stat()
    path.write_text(BRIDGE_V2)

    real_add = Builder._add
    calls: list[str] = []

    def dies_after_first_batch(
        self: Builder, level: str, batch: list[tuple[Document, Piece]], vectors: object
    ) -> int:
        if calls:
            raise RuntimeError("killed mid-build")
        calls.append(level)
        return real_add(self, level, batch, vectors)

    with monkeypatch.context() as patch:
        patch.setattr(Builder, "_add", dies_after_first_batch)
        with pytest.raises(RuntimeError, match="killed"):
            engine.build()
    assert calls == ["chunks"]
    assert engine.store.manifest_path.read_bytes() == manifest_bytes
    # The first batch (the new version's chunks) was written but is not live.
    assert engine.store.collections["chunks"].count() > live_chunks

    # A new store, as another process would open it, serves only the committed records.
    store = IndexStore(corpus, index_dir, embedder)
    passages = Retriever(store, store.read_manifest(), embedder).search(
        "When was the bridge built or rebuilt?", k=10
    )
    texts = "\n".join(p.text for p in passages)
    assert "1932" in texts
    assert "1951" not in texts

    # With the file back as it was indexed, a new engine finds the index fresh and answers
    # from it without rebuilding.
    path.write_text(BRIDGE)
    os.utime(path, ns=(v1_stat.st_atime_ns, v1_stat.st_mtime_ns))
    fresh = make_engine(corpus, index_dir)
    answer = fresh.ask("When was the bridge built?")
    assert not answer.refused
    assert any("1932" in c.quote and c.start_line == 3 for c in answer.citations)
    assert fresh.store.manifest_path.read_bytes() == manifest_bytes

    # The next successful build deletes the records the crashed build left behind.
    path.write_text(BRIDGE_V2)
    stats = fresh.build()
    assert stats.updated == ["bridge.txt"]
    assert engine.store.collections["chunks"].count() == stats.chunks
    assert engine.store.collections["sentences"].count() == stats.sentences
    assert_no_orphans(fresh.store)


def test_failed_manifest_write_keeps_the_previous_index(
    engine: Engine, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = engine.build()
    manifest_bytes = engine.store.manifest_path.read_bytes()
    (corpus / "bridge.txt").write_text(BRIDGE_V2)

    def disk_full(path: Path, text: str) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("rag.index.manifest._write_atomically", disk_full)
        with pytest.raises(IndexBuildError, match="No space left"):
            engine.build()
    assert engine.store.manifest_path.read_bytes() == manifest_bytes
    orphaned = sum(engine.store.collections[level].count() for level in LEVELS)
    assert orphaned > first.chunks + first.sentences

    # The records the failed build wrote are the new version's, whole: kept, not embedded
    # again (an interrupted build resumes where it stopped).
    stats = engine.build()
    assert stats.updated == ["bridge.txt"]
    assert stats.embedded == 0
    assert sum(engine.store.collections[level].count() for level in LEVELS) == (
        stats.chunks + stats.sentences
    )
    assert_no_orphans(engine.store)


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe garbage {{{",
        b'{"files": {"bridge.txt": {"sha256": 1}}}',
        b"[]",
        Manifest(version=0).model_dump_json().encode(),
        Manifest(model="another-model").model_dump_json().encode(),
        b'{"files": {"bridge.txt": {"sha256": "x", "size": 1, "mtime_ns": 1,'
        b' "ids": {"chunks": []}}}}',
    ],
    ids=["garbage", "wrong-shape", "not-an-object", "old-version", "other-model", "no-level"],
)
def test_unusable_manifest_re_indexes_everything(engine: Engine, content: bytes) -> None:
    first = engine.build()
    engine.store.manifest_path.write_bytes(content)
    stats = engine.build()
    # Every file is indexed again; the records in Chroma are exactly what would be
    # written (same ids, text, lines and model), so none is embedded twice.
    assert stats.embedded == 0 < first.embedded
    assert (stats.chunks, stats.sentences) == (first.chunks, first.sentences)
    assert stats.added == ["bridge.txt", "harbour.txt", "sub/forest.md"]
    assert_no_orphans(engine.store)
    assert engine.build().embedded == 0


def test_other_chunk_size_re_indexes_everything(
    engine: Engine, corpus: Path, index_dir: Path, embedder: MiniLMEmbedder
) -> None:
    first = engine.build()
    store = IndexStore(corpus, index_dir, embedder, chunk_tokens=8)
    stats = store.build()
    # Chunks are cut anew (those that come out the same are kept); the sentences do not
    # depend on the chunk size and are all kept.
    assert 0 < stats.embedded <= stats.chunks
    records = store.records(store.read_manifest(), "chunks")
    assert len(records.ids) == stats.chunks
    assert stats.chunks > first.chunks
    assert_no_orphans(store)


def test_missing_corpus_leaves_the_index_untouched(engine: Engine, corpus: Path) -> None:
    engine.build()
    manifest_bytes = engine.store.manifest_path.read_bytes()
    counts = [engine.store.collections[level].count() for level in LEVELS]
    shutil.rmtree(corpus)
    with pytest.raises(CorpusError, match="does not exist"):
        engine.build()
    with pytest.raises(CorpusError):
        engine.retrieve("bridge")
    with pytest.raises(CorpusError):
        rag.build_index(corpus)
    assert engine.store.manifest_path.read_bytes() == manifest_bytes
    assert [engine.store.collections[level].count() for level in LEVELS] == counts


def test_emptied_corpus_leaves_the_index_untouched(engine: Engine, corpus: Path) -> None:
    engine.build()
    manifest_bytes = engine.store.manifest_path.read_bytes()
    for path in list(corpus.rglob("*.*")):
        path.unlink()
    with pytest.raises(CorpusError, match="no readable"):
        engine.build()
    assert engine.store.manifest_path.read_bytes() == manifest_bytes


def test_engine_for_a_missing_corpus_creates_no_index(
    tmp_path: Path, index_dir: Path, make_engine: MakeEngine
) -> None:
    with pytest.raises(CorpusError):
        make_engine(tmp_path / "nowhere", index_dir)
    assert not index_dir.exists()


def test_ask_refreshes_when_a_file_changes(corpus: Path) -> None:
    first = rag.ask("When was the bridge built?", corpus=corpus)
    assert [(c.source, c.start_line) for c in first.citations] == [("bridge.txt", 3)]
    assert "1932" in first.citations[0].quote
    (corpus / "bridge.txt").write_text(
        "Bridges\n\nNotes on the crossings.\n\nThe bridge over the river was built in 1951.\n"
    )
    second = rag.ask("When was the bridge built?", corpus=corpus)
    assert [(c.source, c.start_line) for c in second.citations] == [("bridge.txt", 5)]
    assert "1951" in second.citations[0].quote


def test_ask_picks_up_a_new_file(corpus: Path, write_files: WriteFiles) -> None:
    rag.build_index(corpus)
    write_files(corpus, {"tower.txt": "The tower is 180 metres tall and made of steel.\n"})
    answer = rag.ask("How tall is the tower?", corpus=corpus)
    assert [(c.source, c.start_line) for c in answer.citations] == [("tower.txt", 1)]


def test_index_of_two_corpora_in_one_folder_stay_apart(
    tmp_path: Path, write_files: WriteFiles, index_dir: Path, make_engine: MakeEngine
) -> None:
    one = make_engine(write_files(tmp_path / "one", {"a.txt": BRIDGE}), index_dir)
    two = make_engine(write_files(tmp_path / "two", {"b.txt": HARBOUR}), index_dir)
    one.build()
    two.build()
    assert one.store.manifest_path != two.store.manifest_path
    assert {p.source for p in one.retrieve("harbour cranes")} == {"a.txt"}
    assert {p.source for p in two.retrieve("bridge built")} == {"b.txt"}
    assert one.build().embedded == 0


def test_build_restores_records_that_chroma_lost(
    engine: Engine, corpus: Path, index_dir: Path, make_engine: MakeEngine
) -> None:
    """A wiped server or a deleted chroma/ folder leaves a manifest naming records that no
    longer exist: a question reads the committed copy and is answered as before; without
    the copy, searching says what is missing; the next build writes them again."""
    engine.build()
    before = engine.retrieve("cranes at the harbour")
    lost = live_ids(engine.store, "harbour.txt")
    for level in LEVELS:
        engine.store.collections[level].delete(ids=lost[level])
    assert make_engine(corpus, index_dir).retrieve("cranes at the harbour") == before
    engine.store.copy_path.unlink()
    with pytest.raises(IndexBuildError, match="missing"):
        make_engine(corpus, index_dir).retrieve("cranes at the harbour")
    stats = engine.build()
    assert stats.updated == ["harbour.txt"]
    assert stats.embedded == sum(len(ids) for ids in lost.values())
    assert_no_orphans(engine.store)
    assert engine.retrieve("cranes at the harbour", top_k=1)[0].source == "harbour.txt"


def test_concurrent_builds_do_not_interleave(
    engine: Engine, corpus: Path, index_dir: Path, make_engine: MakeEngine
) -> None:
    """Two engines on one index folder build at once: the lock makes one wait, and it
    then finds everything already embedded."""
    other = make_engine(corpus, index_dir)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda e: e.build(), [engine, other]))
    assert sorted(r.embedded for r in results) == [0, results[0].chunks + results[0].sentences]
    assert_no_orphans(engine.store)


# --- the committed copy -------------------------------------------------------------------


def assert_copy_is_chroma(store: IndexStore) -> None:
    """The committed copy holds exactly what Chroma holds for the live records."""
    manifest = store.read_manifest()
    for level in LEVELS:
        copied = store.records(manifest, level, vectors=True)
        assert copied.vectors is not None
        ids = [i for entry in manifest.files.values() for i in entry.ids[level]]
        stored = store._from_chroma(level, ids, vectors=True)
        assert copied.fields() == stored.fields()
        assert stored.vectors is not None
        assert np.array_equal(copied.vectors, stored.vectors)


def chroma_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("Chroma was opened")

    monkeypatch.setattr(rag.index.chroma, "_open_client", refuse)


def test_a_question_over_a_fresh_index_reads_the_copy_and_never_opens_chroma(
    engine: Engine, corpus: Path, index_dir: Path, make_engine: MakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine.build()
    assert_copy_is_chroma(engine.store)
    expected = engine.ask("How many cranes has the harbour?")
    chroma_unreachable(monkeypatch)
    assert make_engine(corpus, index_dir).ask("How many cranes has the harbour?") == expected


def test_each_build_rewrites_the_copy_to_match_chroma(
    engine: Engine, corpus: Path, write_files: WriteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows of two records: the copy is merged from many windows read from Chroma,
    # interleaved with records kept from the old copy, and its header encoded in pieces.
    monkeypatch.setattr(rag.index.copy, "COPY_WINDOW", 2)
    engine.build()
    first = engine.store.copy_path.stat().st_mtime_ns
    engine.build()  # nothing changed: the copy is left as it is
    assert engine.store.copy_path.stat().st_mtime_ns == first
    (corpus / "bridge.txt").write_text(BRIDGE_V2)
    write_files(corpus, {"tower.txt": "The tower is 180 metres tall.\n"})
    (corpus / "sub" / "forest.md").unlink()
    engine.build()  # records kept from the old copy, the rest read from Chroma
    assert_copy_is_chroma(engine.store)
    assert {p.source for p in engine.retrieve("How tall is the tower?")} >= {"tower.txt"}


@pytest.mark.parametrize("value", [
    {}, [], {"a": []}, [[1, 2], [3]], {"n": None, "f": 1.5, "t": True},
    {"levels": {"sentences": {"texts": ['é "q" \\ \n'] * 2501, "lines": list(range(1001))}}},
])
def test_the_copy_header_is_encoded_as_json_dumps_would(value: object) -> None:
    assert bytes(rag.index.copy._json_bytes(value)) == json.dumps(value).encode()


@pytest.mark.parametrize("member", ["header.npy", "vectors-sentences.npy"])
def test_a_damaged_copy_is_not_used(
    engine: Engine, corpus: Path, index_dir: Path, make_engine: MakeEngine,
    monkeypatch: pytest.MonkeyPatch, member: str,
) -> None:
    engine.build()
    expected = engine.retrieve("cranes at the harbour")
    copy = engine.store.copy_path
    with zipfile.ZipFile(copy) as archive:
        info = archive.getinfo(member)
    with open(copy, "r+b") as handle:  # four bytes in the middle of the member's data
        handle.seek(info.header_offset + 100 + info.file_size // 2)
        handle.write(b"\x00\x01\x02\x03")
    assert make_engine(corpus, index_dir).retrieve("cranes at the harbour") == expected
    chroma_unreachable(monkeypatch)  # that answer came from Chroma
    with pytest.raises(AssertionError, match="Chroma was opened"):
        make_engine(corpus, index_dir).retrieve("cranes at the harbour")


def test_a_copy_of_other_records_is_not_used(
    engine: Engine, corpus: Path, index_dir: Path, make_engine: MakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A copy left by an older build (its manifest since replaced by one that the copy
    does not match, as when writing the copy failed) is not read."""
    engine.build()
    old = engine.store.copy_path.read_bytes()
    (corpus / "harbour.txt").write_text(HARBOUR.replace("four", "six"))
    engine.build()
    engine.store.copy_path.write_bytes(old)
    answer = make_engine(corpus, index_dir).ask("How many cranes has the harbour?")
    assert "six" in answer.text
    chroma_unreachable(monkeypatch)
    with pytest.raises(AssertionError, match="Chroma was opened"):
        make_engine(corpus, index_dir).retrieve("cranes at the harbour")


def test_cutting_digest_reads_the_code_not_its_comments_or_docstrings() -> None:
    """Rewording a comment or a docstring of the cutting code must not re-cut every
    user's index; changing what the code does must."""
    source = Path(str(rag.markdown.__file__)).read_text(encoding="utf-8")
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    uncommented = tokenize.untokenize(t for t in tokens if t.type != tokenize.COMMENT)
    assert uncommented != source
    reworded = uncommented.replace('"""The role of every line', '"""What each line is', 1)
    assert reworded != uncommented
    assert code_digest(reworded) == code_digest(source)
    changed = source.replace('r"^(?:!!!|', 'r"^(?:!!|', 1)
    assert changed != source
    assert code_digest(changed) != code_digest(source)
