"""A build: which files to cut again, cutting and embedding them a group at a time (their
pieces in windows, written in batches), committing the manifest, and deleting the records
no manifest names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.chunking import Piece, line_windows, sentence_units
from rag.corpus import (
    CorpusFile,
    Document,
    file_sha256,
    list_corpus,
    no_documents,
    read_documents,
    warn_if_large,
)
from rag.embeddings import MODEL_ID, MiniLMEmbedder
from rag.formats import is_structured, searchable
from rag.index.chroma import ID_BATCH, ChromaIndex
from rag.index.groups import Cut, Group, Progress, Tally, grouped
from rag.index.manifest import CHUNKS, LEVELS, SENTENCES, FileEntry, Level, Manifest, ManifestFile
from rag.types import IndexStats

__all__ = ["EMBED_WINDOW", "WRITE_BATCH", "Builder", "Progress"]

WRITE_BATCH = 256  # records a Chroma write carries
EMBED_WINDOW = 2048  # records embedded in one call, then written


@dataclass
class Builder:
    """Writes one corpus's records to its Chroma collections and commits its manifest
    (under the build lock, which the caller holds)."""

    corpus: Path
    index_dir: Path
    chunk_tokens: int
    embedder: MiniLMEmbedder
    chroma: ChromaIndex
    manifests: ManifestFile

    @property
    def collections(self) -> dict[str, Any]:
        return self.chroma.collections

    def commit(self, old: Manifest, progress: Progress | None) -> tuple[Manifest, IndexStats]:
        """Embed and write what ``old`` lacks of the corpus, and commit the new manifest
        (written only when it changed). No more than a group of files is held at a time
        (``GROUP_CHARS``); the manifest, written last, is the commit point."""
        files, skipped = list_corpus(self.corpus)
        unreadable: list[str] = []
        kept, changed = self._unchanged(old, files, unreadable)
        groups = self._plan(changed, unreadable)
        if not kept and not groups:
            raise no_documents(self.corpus, skipped + unreadable)
        entries, embedded = self._write(groups, progress, unreadable)
        new = self.manifests.empty()
        new.files.update(kept)
        new.files.update(sorted(entries.items()))
        stamps = {file.source: file.stamp for file in files}
        new.skipped = {source: (stamps[source].size, stamps[source].mtime_ns)
                       for source in sorted(unreadable)}
        if new != old:  # a plain touch changes the stamps, and so the manifest
            self.manifests.write(new)
            self._collect_garbage(new)
        return new, IndexStats(
            corpus=str(self.corpus),
            index_dir=str(self.index_dir),
            files=len(new.files),
            chunks=sum(len(e.ids[CHUNKS]) for e in new.files.values()),
            sentences=sum(len(e.ids[SENTENCES]) for e in new.files.values()),
            embedded=embedded,
            added=[source for source in sorted(entries) if source not in old.files],
            updated=[source for source in sorted(entries) if source in old.files],
            removed=sorted(set(old.files) - set(new.files)),
            skipped=skipped + sorted(unreadable),
        )

    def _unchanged(
        self, old: Manifest, files: list[CorpusFile], unreadable: list[str]
    ) -> tuple[dict[str, FileEntry], list[CorpusFile]]:
        """The entries of the files ``old`` holds with the same hash and every record in
        Chroma, with their new stamps, in source order; and the other files, to cut. A
        file is only hashed here, never decoded or kept. Records the manifest names but
        Chroma lost (a wiped server, a deleted chroma/ folder) are written again rather
        than failing every later search; Chroma is asked about a few thousand at a time."""
        kept: dict[str, FileEntry] = {}
        changed: list[CorpusFile] = []
        same: list[tuple[CorpusFile, FileEntry]] = []

        def settle() -> None:
            present = {level: self._stored(level, [i for _, e in same for i in e.ids[level]])
                       for level in LEVELS}
            for file, previous in same:
                if all(present[level].issuperset(previous.ids[level]) for level in LEVELS):
                    kept[file.source] = previous.model_copy(
                        update={"size": file.stamp.size, "mtime_ns": file.stamp.mtime_ns})
                else:
                    changed.append(file)
            same.clear()

        waiting = 0
        for file in files:
            sha256 = file_sha256(file, unreadable)
            if sha256 is None:
                continue
            previous = old.files.get(file.source)
            if previous is None or previous.sha256 != sha256:
                changed.append(file)
                continue
            same.append((file, previous))
            waiting += sum(len(previous.ids[level]) for level in LEVELS)
            if waiting >= ID_BATCH:
                settle()
                waiting = 0
        settle()
        return kept, sorted(changed, key=lambda file: file.source)

    def _stored(self, level: Level, ids: list[str]) -> set[str]:
        """Which of ``ids`` Chroma holds at ``level``."""
        return {rid for batch in self.chroma.get(level, ids, []) for rid in batch["ids"]}

    def _plan(self, changed: list[CorpusFile], unreadable: list[str]) -> list[Group]:
        """The changed files that give documents, in groups (``rag.index.groups``)."""

        def first_read() -> Iterator[Document]:
            for doc in read_documents(changed, unreadable):
                warn_if_large(doc)
                yield doc

        return grouped(first_read(), {file.source: file for file in changed}, self._cut)

    def _cut(self, docs: Iterable[Document]) -> Cut:
        docs = list(docs)
        pieces = {doc.source: self._pieces(doc) for doc in docs}
        return Cut(docs, pieces, {level: self._not_stored(level, docs, pieces)
                                   for level in LEVELS})

    def _pieces(self, doc: Document) -> dict[Level, list[Piece]]:
        return {
            CHUNKS: line_windows(doc, self.chunk_tokens),
            SENTENCES: sentence_units(doc),
        }

    def _write(
        self, groups: list[Group], progress: Progress | None, unreadable: list[str]
    ) -> tuple[dict[str, FileEntry], int]:
        """Embed and write each group's records; the manifest entries of their files,
        and how many records were embedded."""
        tally = Tally(progress, groups)
        tally.report()
        entries: dict[str, FileEntry] = {}
        # The last group is still cut: written first, no two groups are ever held at once.
        for group in groups[-1:] + groups[:-1]:
            self._write_group(group, tally, entries, unreadable)
        return entries, tally.done

    def _write_group(self, group: Group, tally: Tally, entries: dict[str, FileEntry],
                     unreadable: list[str]) -> None:
        cut = group.cut or self._cut(read_documents(group.files, unreadable))
        group.cut = None  # let go when this returns
        tally.total += cut.records - group.records  # a file changed since it was counted
        tally.work_total += cut.work - group.work
        for level in LEVELS:
            self._embed(level, cut.todo[level], tally)
        for doc in cut.docs:
            entries[doc.source] = FileEntry(
                sha256=doc.sha256,
                size=doc.stamp.size,
                mtime_ns=doc.stamp.mtime_ns,
                ids={level: [_record_id(doc, level, p) for p in cut.pieces[doc.source][level]]
                     for level in LEVELS},
            )

    def _embed(self, level: Level, todo: list[tuple[Document, Piece]], tally: Tally) -> None:
        # Shortest first across the group's level: batches of like lengths pad little
        # (onnxruntime's memory, which grows with the largest batch shape it has seen, is
        # bounded by rag.embeddings.BATCH_TOKENS, not by this order). Each window is
        # written as soon as it is embedded, so an interrupted build keeps it. A vector
        # does not depend on its batch (tests/test_embeddings.py), and dense search does
        # not depend on the order records were written in (rag/retrieval.py: exact up to
        # EXACT_RECORDS a level).
        texts = [_searchable(piece) for _, piece in todo]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for begin in range(0, len(order), EMBED_WINDOW):
            chosen = order[begin : begin + EMBED_WINDOW]
            window = [todo[i] for i in chosen]
            vectors = self.embedder.embed([texts[i] for i in chosen])
            for start in range(0, len(window), WRITE_BATCH):
                batch = window[start : start + WRITE_BATCH]
                tally.add(self._add(level, batch, vectors[start : start + WRITE_BATCH]),
                          sum(len(piece.text) for _, piece in batch))
        tally.report()

    def _not_stored(
        self, level: Level, docs: list[Document], pieces: dict[str, dict[Level, list[Piece]]]
    ) -> list[tuple[Document, Piece]]:
        """The pieces of ``level`` that Chroma does not already hold exactly as they would
        be written now (left by an interrupted build): those are kept, not re-embedded."""
        wanted = [(doc, piece) for doc in docs for piece in pieces[doc.source][level]]
        ids = [_record_id(doc, level, piece) for doc, piece in wanted]
        stored: dict[str, tuple[str, dict[str, Any]]] = {}
        for got in self.chroma.get(level, ids, ["documents", "metadatas"]):
            for rid, text, meta in zip(got["ids"], got["documents"], got["metadatas"],
                                       strict=True):
                stored[rid] = (text, meta)
        return [
            (doc, piece) for rid, (doc, piece) in zip(ids, wanted, strict=True)
            if stored.get(rid) != (piece.text, _metadata(doc, piece))
        ]

    def _add(self, level: Level, batch: list[tuple[Document, Piece]], vectors: Any) -> int:
        if not batch:
            return 0
        self.collections[level].upsert(
            ids=[_record_id(doc, level, piece) for doc, piece in batch],
            embeddings=vectors,
            documents=[piece.text for _, piece in batch],
            metadatas=[_metadata(doc, piece) for doc, piece in batch],
        )
        return len(batch)

    def _collect_garbage(self, manifest: Manifest) -> None:
        """Delete records the manifest does not name: old versions and crashed builds."""
        for level in LEVELS:
            live = manifest.live_ids(level)
            stored = self.collections[level].get(include=[])["ids"]
            dead = [i for i in stored if i not in live]
            for begin in range(0, len(dead), ID_BATCH):
                self.collections[level].delete(ids=dead[begin : begin + ID_BATCH])


def _metadata(doc: Document, piece: Piece) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": piece.source, "start_line": piece.start_line,
                            "end_line": piece.end_line, "sha256": doc.sha256, "model": MODEL_ID}
    if is_structured(piece.source):  # a Markdown record embeds its heading path too
        meta["context"] = piece.context
    return meta


def _searchable(piece: Piece) -> str:
    """The text a piece is embedded as (a Markdown piece with its heading path)."""
    return searchable(piece.source, piece.text, piece.context)


def _record_id(doc: Document, level: Level, piece: Piece) -> str:
    return f"{doc.source}#{doc.sha256[:16]}#{level[0]}{piece.index}"

