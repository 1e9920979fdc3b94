"""A build: which files to cut again, embedding their pieces in windows and writing them
in batches, committing the manifest, and deleting the records no manifest names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.chunking import Piece, line_windows, sentence_units
from rag.corpus import Document, FileStamp, load_corpus, scan_corpus
from rag.embeddings import MODEL_ID, MiniLMEmbedder
from rag.formats import is_structured, searchable
from rag.index.chroma import ChromaIndex
from rag.index.manifest import LEVELS, FileEntry, Manifest, ManifestFile
from rag.types import IndexStats

__all__ = ["EMBED_WINDOW", "WRITE_BATCH", "Builder", "Progress"]

WRITE_BATCH = 256  # records a Chroma write carries
EMBED_WINDOW = 2048  # records embedded in one call, then written

Progress = Callable[[int, int], None]
"""``progress(done, total)`` in records. A progress object that also has a method
``weighted(done, total, work_done, work_total)`` is called through it instead, the work
being the length of the pieces' text embedded so far and in all: records are embedded shortest
first, so a rate in records would promise the long ones far too soon."""


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
        """Read the corpus, embed and write what ``old`` lacks, and commit the new
        manifest (written only when it changed)."""
        corpus = load_corpus(self.corpus)
        new = self.manifests.empty()
        new.skipped = _skipped_stamps(self.corpus, corpus.skipped)
        todo: list[Document] = []
        added: list[str] = []
        updated: list[str] = []
        # Records the manifest names but Chroma lost (a wiped server, a deleted chroma/
        # folder) are written again rather than failing every later search.
        stored = {level: set(self.collections[level].get(include=[])["ids"]) for level in LEVELS}
        for doc in corpus.documents:
            previous = old.files.get(doc.source)
            if (
                previous is not None
                and previous.sha256 == doc.sha256
                and all(set(previous.ids[level]) <= stored[level] for level in LEVELS)
            ):
                new.files[doc.source] = previous.model_copy(
                    update={"size": doc.stamp.size, "mtime_ns": doc.stamp.mtime_ns}
                )
            else:
                todo.append(doc)
                (updated if previous is not None else added).append(doc.source)
        pieces = {doc.source: self._pieces(doc) for doc in todo}
        embedded = self._write(todo, pieces, progress)
        for doc in todo:
            new.files[doc.source] = FileEntry(
                sha256=doc.sha256,
                size=doc.stamp.size,
                mtime_ns=doc.stamp.mtime_ns,
                ids={level: [_record_id(doc, level, p) for p in pieces[doc.source][level]]
                     for level in LEVELS},
            )
        if new != old:  # a plain touch changes the stamps, and so the manifest
            self.manifests.write(new)
            self._collect_garbage(new)
        return new, IndexStats(
            corpus=str(self.corpus),
            index_dir=str(self.index_dir),
            files=len(new.files),
            chunks=sum(len(e.ids["chunks"]) for e in new.files.values()),
            sentences=sum(len(e.ids["sentences"]) for e in new.files.values()),
            embedded=embedded,
            added=added,
            updated=updated,
            removed=sorted(set(old.files) - set(new.files)),
            skipped=list(corpus.skipped),
        )

    def _pieces(self, doc: Document) -> dict[str, list[Piece]]:
        return {
            "chunks": line_windows(doc, self.chunk_tokens),
            "sentences": sentence_units(doc),
        }

    def _write(
        self,
        docs: list[Document],
        pieces: dict[str, dict[str, list[Piece]]],
        progress: Progress | None,
    ) -> int:
        todo = {level: self._not_stored(level, docs, pieces) for level in LEVELS}
        total = sum(len(todo[level]) for level in LEVELS)
        # The work is measured in characters of each piece's own text, a stand-in for its
        # tokens that needs no second pass over every piece's searchable form.
        work_total = sum(len(piece.text) for level in LEVELS for _, piece in todo[level])
        done = work = 0
        weighted = getattr(progress, "weighted", None)

        def report() -> None:
            if weighted is not None:
                weighted(done, total, work, work_total)
            elif progress:
                progress(done, total)

        report()
        for level in LEVELS:
            # Shortest first across the whole level: batches of like lengths pad little,
            # and onnxruntime's memory, which grows with the largest batch shape it has
            # seen, grows once. Each window is written as soon as it is embedded, so an
            # interrupted build keeps it. A vector does not depend on its batch (tests/
            # test_embeddings.py), and dense search does not depend on the order records
            # were written in (rag/retrieval.py: exact up to EXACT_RECORDS a level).
            texts = [_searchable(piece) for _, piece in todo[level]]
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            for begin in range(0, len(order), EMBED_WINDOW):
                chosen = order[begin : begin + EMBED_WINDOW]
                window = [todo[level][i] for i in chosen]
                vectors = self.embedder.embed([texts[i] for i in chosen])
                for start in range(0, len(window), WRITE_BATCH):
                    done += self._add(level, window[start : start + WRITE_BATCH],
                                      vectors[start : start + WRITE_BATCH])
                    work += sum(len(piece.text) for _, piece in window[start : start + WRITE_BATCH])
                    report()
            report()
        return done

    def _not_stored(
        self, level: str, docs: list[Document], pieces: dict[str, dict[str, list[Piece]]]
    ) -> list[tuple[Document, Piece]]:
        """The pieces of ``level`` that Chroma does not already hold exactly as they would
        be written now (left by an interrupted build): those are kept, not re-embedded."""
        wanted = [(doc, piece) for doc in docs for piece in pieces[doc.source][level]]
        ids = [_record_id(doc, level, piece) for doc, piece in wanted]
        stored: dict[str, tuple[str, dict[str, Any]]] = {}
        for begin in range(0, len(ids), 5000):
            got = self.collections[level].get(
                ids=ids[begin : begin + 5000], include=["documents", "metadatas"]
            )
            for rid, text, meta in zip(got["ids"], got["documents"], got["metadatas"],
                                       strict=True):
                stored[rid] = (text, meta)
        return [
            (doc, piece) for rid, (doc, piece) in zip(ids, wanted, strict=True)
            if stored.get(rid) != (piece.text, _metadata(doc, piece))
        ]

    def _add(self, level: str, batch: list[tuple[Document, Piece]], vectors: Any) -> int:
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
            for begin in range(0, len(dead), 5000):
                self.collections[level].delete(ids=dead[begin : begin + 5000])


def _metadata(doc: Document, piece: Piece) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": piece.source, "start_line": piece.start_line,
                            "end_line": piece.end_line, "sha256": doc.sha256, "model": MODEL_ID}
    if is_structured(piece.source):  # a Markdown record embeds its heading path too
        meta["context"] = piece.context
    return meta


def _searchable(piece: Piece) -> str:
    """The text a piece is embedded as (a Markdown piece with its heading path)."""
    return searchable(piece.source, piece.text, piece.context)


def _record_id(doc: Document, level: str, piece: Piece) -> str:
    return f"{doc.source}#{doc.sha256[:16]}#{level[0]}{piece.index}"


def _skipped_stamps(root: Path, skipped: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    stamps: dict[str, FileStamp] = {s.source: s for s in scan_corpus(root)}
    return {src: (stamps[src].size, stamps[src].mtime_ns) for src in skipped if src in stamps}
