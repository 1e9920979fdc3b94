"""The index: Chroma collections plus a manifest that says which records are live.

Layout of an index folder (default ``.rag/``)::

    chroma/                     Chroma's PersistentClient data (unused with a remote server)
    manifest-<key>.json         per corpus: each file's hash, stat stamp and record ids
    records-<key>.npz           per corpus (embedded index only): the committed copy, the
                                live records' text, lines and vectors as the last build
                                committed them
    lock                        taken while building, so two builds never interleave

Records are written under ids that contain the file's content hash, so a new version of
a file never overwrites the old one. The manifest, replaced atomically, is the commit
point: readers only use records the manifest names. A crash before the manifest is
written leaves the previous index in use; records it left behind are deleted by the next
build. Unchanged files (same hash) are never re-embedded, and neither are records an
interrupted build already wrote (same id, text, lines and model).

Readers never write: a question over an up-to-date index takes no lock and leaves the
manifest alone. A question over an embedded index reads its records from the committed
copy, which the build writes after the manifest and which is used only when it holds
exactly the records the manifest names, so it never imports or opens Chroma; Chroma is
read (and its damage found) by builds, and by questions when the copy is missing or
unreadable. Every Chroma call goes through ``rag.faults.StoreFaults``, so a dead or
frozen server, a full disk or damaged files end in a ``RagError``, and ``rebuild``
moves a damaged index aside before building it again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ValidationError, field_validator

from rag.chunking import DEFAULT_CHUNK_TOKENS, Piece, line_windows, sentence_units
from rag.corpus import Document, FileStamp, load_corpus, scan_corpus
from rag.embeddings import EMBEDDING_DIM, MODEL_ID, MiniLMEmbedder
from rag.errors import ConfigError, IndexBuildError
from rag.faults import StoreFaults
from rag.formats import is_structured, searchable
from rag.types import IndexStats
from rag.watch import ChangeWatch

__all__ = ["LEVELS", "IndexBusyError", "IndexStore", "Manifest", "Records"]

LEVELS = ("chunks", "sentences")
WRITE_BATCH = 256  # records a Chroma write carries
EMBED_WINDOW = 2048  # records embedded in one call, then written
COPY_WINDOW = 1000  # records read back from Chroma at a time for the committed copy
MANIFEST_VERSION = 3  # 3: Markdown is cut by its structure (rag.markdown)
COPY_VERSION = 1  # the layout of the committed copy (``IndexStore.copy_path``)

EXACT_RECORDS = 50_000
"""A level of at most this many records is searched exactly, over its stored vectors held
in memory (75 MB of float32 at the limit): the same ranking from every build of the same
files. Chroma's HNSW graph differs from build to build, and on the httpx docs (2,028
sentence records) its top 60 missed a few of the exact top 60 in most questions, a
different few each build, so answers changed with the build. The committed copy holds
the vectors of such levels only (``rag.retrieval`` searches larger ones through Chroma)."""


def _cutting_fingerprint() -> str:
    """A digest of the code that cuts documents into pieces: when it changes, every file
    is cut again (the pieces that come out the same keep their vectors)."""
    import rag.chunking
    import rag.formats
    import rag.html
    import rag.language.sentences
    import rag.markdown
    import rag.pdf
    import rag.roles
    import rag.rst

    digest = hashlib.sha256()
    for module in (rag.chunking, rag.language.sentences, rag.formats, rag.roles,
                   rag.markdown, rag.rst, rag.html, rag.pdf):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


CUTTING = _cutting_fingerprint()
Progress = Callable[[int, int], None]
"""``progress(done, total)`` in records. A progress object that also has a method
``weighted(done, total, work_done, work_total)`` is called through it instead, the work
being the length of the pieces' text embedded so far and in all: records are embedded shortest
first, so a rate in records would promise the long ones far too soon."""


class FileEntry(BaseModel):
    sha256: str
    size: int
    mtime_ns: int
    ids: dict[str, list[str]]  # level -> record ids

    @field_validator("ids")
    @classmethod
    def _every_level(cls, ids: dict[str, list[str]]) -> dict[str, list[str]]:
        if set(ids) != set(LEVELS):
            raise ValueError(f"record ids must be given for exactly the levels {LEVELS}")
        return ids


class Manifest(BaseModel):
    version: int = MANIFEST_VERSION
    cutting: str = CUTTING
    model: str = MODEL_ID
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    corpus: str = ""
    files: dict[str, FileEntry] = {}
    skipped: dict[str, tuple[int, int]] = {}  # source -> (size, mtime_ns)

    def stamps(self) -> dict[str, tuple[int, int]]:
        stamps = {src: (e.size, e.mtime_ns) for src, e in self.files.items()}
        return stamps | self.skipped

    def level_ids(self, level: str) -> list[str]:
        """The ids of ``level``'s live records, in manifest order."""
        return [i for entry in self.files.values() for i in entry.ids[level]]

    def live_ids(self, level: str) -> set[str]:
        return set(self.level_ids(level))


class IndexBusyError(IndexBuildError):
    """Another process holds the build lock (raised only when asked not to wait)."""


@dataclass(frozen=True)
class Records:
    """The live records of one level, in manifest order."""

    ids: list[str]
    texts: list[str]
    sources: list[str]
    start_lines: list[int]
    end_lines: list[int]
    contexts: list[str]  # a Markdown record's heading path ("" for others)
    vectors: npt.NDArray[np.float32] | None = None  # stored vectors, row i = ids[i]

    def searchable(self, i: int) -> str:
        """What retrieval reads for record ``i`` (``rag.formats.searchable``)."""
        return searchable(self.sources[i], self.texts[i], self.contexts[i])

    def fields(self) -> dict[str, list[Any]]:
        """Everything but the vectors, as the committed copy's header holds it."""
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = ("ids", "texts", "sources", "start_lines", "end_lines", "contexts")


class IndexStore:
    """Builds and reads the index of one corpus in one index folder."""

    def __init__(
        self,
        corpus: Path,
        index_dir: Path,
        embedder: MiniLMEmbedder,
        chroma_url: str | None = None,
        chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
        timeout_s: float = 30.0,
    ) -> None:
        self.corpus = corpus.resolve()
        self.index_dir = index_dir
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.chroma_url = chroma_url
        self.key = hashlib.sha256(str(self.corpus).encode()).hexdigest()[:12]
        self.manifest_path = index_dir / f"manifest-{self.key}.json"
        self.faults = StoreFaults(index_dir, chroma_url, timeout_s)
        self._timeout_s = timeout_s
        self._client: Any = None
        self._collections: dict[str, _Collection] | None = None
        self._opened: tuple[int, int] | None = None  # the database file the client opened
        self._watch = ChangeWatch(self.corpus)
        self._fresh_for: Manifest | None = None  # the manifest a scan last found fresh
        self._manifest_cache: tuple[tuple[int, int, int], Manifest] | None = None
        self.copy_path = index_dir / f"records-{self.key}.npz"
        self._copy_cache: tuple[tuple[int, int, int], dict[str, Records]] | None = None

    @property
    def collections(self) -> dict[str, _Collection]:
        """The Chroma collections, opened on first use (so that ``rebuild`` can move a
        damaged index aside before anything opens it)."""
        if self._collections is not None and self._opened != self._chroma_file():
            # Moved aside by another process's rebuild, or deleted: the open client would
            # fail every call ("readonly database", code 1032) until the process restarts.
            self._close()
        if self._collections is None:
            with self.faults.call("open the index"):
                self._client = _open_client(self.index_dir, self.chroma_url, self._timeout_s)
                self._opened = self._chroma_file()
                self._collections = {
                    level: _Collection(self._client.get_or_create_collection(
                        f"rag-{self.key}-{level}",
                        embedding_function=None,
                        configuration={"hnsw": {"space": "cosine"}},
                    ), self.faults)
                    for level in LEVELS
                }
        return self._collections

    def _chroma_file(self) -> tuple[int, int] | None:
        """Which file the embedded database is now (device, inode); None on a server."""
        if self.chroma_url:
            return None
        try:
            st = (self.index_dir / "chroma" / "chroma.sqlite3").stat()
        except OSError:
            return (0, 0)
        return st.st_dev, st.st_ino

    def _close(self) -> None:
        """Forget the open client; chromadb caches one engine per folder, so the cache
        entry goes too (the next open then reads the folder afresh)."""
        if self._client is not None and not self.chroma_url:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(
                getattr(self._client, "_identifier", ""), None)
        self._client = None
        self._collections = None

    def read_manifest(self) -> Manifest:
        """The committed manifest; an empty one if none, or if it is from another setup.
        Parsed again only when the file's stamp changed (every ask reads it), so callers
        share one object and must not change it."""
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return Manifest(corpus=str(self.corpus), chunk_tokens=self.chunk_tokens)
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        cached = self._manifest_cache
        if cached is not None and cached[0] == stamp:
            return cached[1]
        manifest = self._parse_manifest()
        self._manifest_cache = (stamp, manifest)
        return manifest

    def _parse_manifest(self) -> Manifest:
        try:
            manifest = Manifest.model_validate_json(self.manifest_path.read_bytes())
        except FileNotFoundError:
            return Manifest(corpus=str(self.corpus), chunk_tokens=self.chunk_tokens)
        except (ValidationError, ValueError):
            return Manifest(corpus=str(self.corpus), chunk_tokens=self.chunk_tokens)
        if (manifest.version, manifest.cutting, manifest.model, manifest.chunk_tokens) != (
            MANIFEST_VERSION,
            CUTTING,
            MODEL_ID,
            self.chunk_tokens,
        ):
            return Manifest(corpus=str(self.corpus), chunk_tokens=self.chunk_tokens)
        return manifest

    def is_fresh(self, manifest: Manifest) -> bool:
        """Whether ``stat`` finds the corpus exactly as the manifest recorded it. Once a
        scan has found it so, later calls with the same manifest scan again only when the
        kernel reported a change under the corpus since (``rag.watch``): a warm question
        over 50,000 files then costs no 50,000 stats."""
        if self._fresh_for is manifest and self._watch.quiet():
            return True
        self._fresh_for = None
        self._watch.arm()  # before the scan: a change made during it is reported
        current = {s.source: (s.size, s.mtime_ns) for s in scan_corpus(self.corpus)}
        fresh = current == manifest.stamps() and bool(manifest.files)
        if fresh:
            self._fresh_for = manifest
        else:
            self._watch.close()
        return fresh

    def build(self, progress: Progress | None = None, *, wait: bool = True) -> IndexStats:
        """Bring the index up to date with the corpus, embedding only what changed (and
        what Chroma lost). The manifest is rewritten only when something changed. With
        ``wait=False`` a build that another process is running raises ``IndexBusyError``
        instead of waiting for it."""
        with self.faults.call("update the index"):
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with self._locked(wait):
                # Another process may have built meanwhile: the manifest is read under the lock.
                return self._build(self.read_manifest(), progress)

    def rebuild(self, progress: Progress | None = None) -> IndexStats:
        """Build the index from nothing. An embedded index's Chroma folder is moved aside
        (``chroma.damaged-<time>``, for a post-mortem; delete it at will) with every
        manifest that named its records; on a server this corpus's collections are
        dropped."""
        from chromadb.errors import NotFoundError

        with self.faults.call("rebuild the index"):
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with self._locked(True):
                if self.chroma_url:
                    self.collections  # noqa: B018 (opens the client)
                    for level in LEVELS:
                        with contextlib.suppress(ValueError, NotFoundError):
                            self._client.delete_collection(f"rag-{self.key}-{level}")
                    self.manifest_path.unlink(missing_ok=True)
                else:
                    chroma = self.index_dir / "chroma"
                    if chroma.exists():
                        stamp = time.strftime("%Y%m%d-%H%M%S")
                        os.replace(chroma, self.index_dir / f"chroma.damaged-{stamp}")
                    for manifest in self.index_dir.glob("manifest-*.json"):
                        manifest.unlink()
                    for copy in self.index_dir.glob("records-*.npz"):
                        copy.unlink()
                    self._copy_cache = None
                self._close()
                return self._build(self.read_manifest(), progress)

    def records(self, manifest: Manifest, level: str, *, vectors: bool = False) -> Records:
        """Text and lines of every live record of ``level``, and their stored vectors
        when asked: from the committed copy when it holds exactly these records (so a
        question over a fresh embedded index never opens Chroma), else from Chroma."""
        ids = manifest.level_ids(level)
        if not self.chroma_url:
            copied = self._copied(level, ids, vectors)
            if copied is not None:
                return copied
        return self._from_chroma(level, ids, vectors)

    def _from_chroma(self, level: str, ids: list[str], vectors: bool) -> Records:
        got: dict[str, tuple[str, dict[str, Any]]] = {}
        stored: dict[str, Any] = {}
        include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
        for begin in range(0, len(ids), 5000):
            batch = self.collections[level].get(ids=ids[begin : begin + 5000], include=include)
            for rid, text, meta in zip(
                batch["ids"], batch["documents"], batch["metadatas"], strict=True
            ):
                got[rid] = (text, meta)
            if vectors:
                stored.update(zip(batch["ids"], batch["embeddings"], strict=True))
        missing = [i for i in ids if i not in got]
        if missing:
            raise IndexBuildError(
                f"the index is missing {len(missing)} records its manifest names; "
                "`rag index` writes them again"
            )
        return Records(
            ids=ids,
            texts=[got[i][0] for i in ids],
            sources=[str(got[i][1]["source"]) for i in ids],
            start_lines=[int(got[i][1]["start_line"]) for i in ids],
            end_lines=[int(got[i][1]["end_line"]) for i in ids],
            contexts=[str(got[i][1].get("context", "")) for i in ids],
            vectors=(np.asarray([stored[i] for i in ids], dtype=np.float32)
                     .reshape(len(ids), EMBEDDING_DIM) if vectors else None),
        )

    def _read_copy(self) -> dict[str, Records] | None:
        """The committed copy's records of each level (with vectors where it has them),
        read again only when its file changed; None when there is none, or it is from
        another setup, or it cannot be read (each zip member's CRC is checked as it is
        read, so a damaged copy is not used)."""
        try:
            st = self.copy_path.stat()
        except OSError:
            return None
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self._copy_cache is not None and self._copy_cache[0] == stamp:
            return self._copy_cache[1]
        try:
            with np.load(self.copy_path, allow_pickle=False) as stored:
                header = json.loads(stored["header"].tobytes())
                setup = (header["version"], header["cutting"], header["model"],
                         header["chunk_tokens"])
                if setup != (COPY_VERSION, CUTTING, MODEL_ID, self.chunk_tokens):
                    return None
                copy = {
                    level: Records(**{name: header["levels"][level][name] for name in _FIELDS},
                                   vectors=(stored[f"vectors-{level}"]
                                            if f"vectors-{level}" in stored.files else None))
                    for level in LEVELS
                }
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
            return None
        self._copy_cache = (stamp, copy)
        return copy

    def _copied(self, level: str, ids: list[str], vectors: bool) -> Records | None:
        copy = self._read_copy()
        if copy is None or copy[level].ids != ids:
            return None
        if not vectors:
            return dataclasses.replace(copy[level], vectors=None)
        return copy[level] if copy[level].vectors is not None else None

    def _save_copy(self, manifest: Manifest) -> None:
        """Write the committed copy of ``manifest``'s records, with the vectors of every
        level searched exactly. Only a build writes it, under the build lock, after the
        manifest is committed, and only for an embedded index (a server's records are
        the server's). Records the old copy holds are taken from it (an id names one
        piece of one version of a file, cut and embedded by the code the copy records);
        the rest are read back from Chroma, a window at a time, each let go once merged
        (a read of every record at once added 120 MiB to a 10k-line build's peak, and
        holding every window until the merge 45 MiB to a 100k-line one's; the header's
        JSON is encoded piece by piece for the same reason). Nothing is written when the
        copy already holds exactly these records; a copy that cannot be written is left
        out, and questions read Chroma instead."""
        old = self._read_copy()
        copy: dict[str, Records] = {}
        for level in LEVELS:
            ids = manifest.level_ids(level)
            with_vectors = len(ids) <= EXACT_RECORDS
            kept = old[level] if old is not None else None
            if kept is not None and with_vectors and kept.vectors is None:
                kept = None
            if kept is not None and kept.ids == ids:
                copy[level] = kept if with_vectors else dataclasses.replace(kept, vectors=None)
                continue
            known = {rid: n for n, rid in enumerate(kept.ids)} if kept is not None else {}
            rest = [i for i in ids if i not in known]
            fresh = (self._from_chroma(level, rest[begin : begin + COPY_WINDOW], with_vectors)
                     for begin in range(0, len(rest), COPY_WINDOW))
            copy[level] = _merged(ids, known, kept, fresh, with_vectors)
        if old is not None and all(
            copy[level].fields() == old[level].fields()
            and (copy[level].vectors is None) == (old[level].vectors is None)
            for level in LEVELS
        ):
            return
        header = {"version": COPY_VERSION, "cutting": CUTTING, "model": MODEL_ID,
                  "chunk_tokens": self.chunk_tokens,
                  "levels": {level: records.fields() for level, records in copy.items()}}
        vectors: dict[str, Any] = {f"vectors-{level}": records.vectors
                                   for level, records in copy.items()
                                   if records.vectors is not None}
        tmp = self.copy_path.with_name(f".{self.copy_path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as handle:
                np.savez(handle, header=np.frombuffer(_json_bytes(header), np.uint8),
                         **vectors)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.copy_path)
        except OSError:
            tmp.unlink(missing_ok=True)

    def _build(self, old: Manifest, progress: Progress | None) -> IndexStats:
        new, stats = self._commit(old, progress)
        # The corpus's text and pieces went with ``_commit``: the copy, the build's peak
        # at 100k lines, is not written on top of them.
        if not self.chroma_url:
            self._save_copy(new)
        return stats

    def _commit(self, old: Manifest, progress: Progress | None) -> tuple[Manifest, IndexStats]:
        """Read the corpus, embed and write what ``old`` lacks, and commit the new
        manifest (written only when it changed)."""
        corpus = load_corpus(self.corpus)
        new = Manifest(corpus=str(self.corpus), chunk_tokens=self.chunk_tokens)
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
            _write_atomically(self.manifest_path, new.model_dump_json(indent=1))
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

    @contextlib.contextmanager
    def _locked(self, wait: bool) -> Iterator[None]:
        """The build lock. Its holder says who it is in the lock file and touches it every
        ``LOCK_BEAT_S`` while it holds it; a waiter gives up, saying who holds it and since
        when, once the file has not been touched for ``LOCK_STALL_S`` (a holder frozen by
        SIGSTOP, or stuck in the kernel, would otherwise keep every build and every first
        question waiting for ever). A holder that dies lets go of the lock by itself."""
        path = self.index_dir / "lock"
        began = time.monotonic()
        with open(path, "a+b") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not wait:
                        raise IndexBusyError(
                            f"another rag process is updating the index in {self.index_dir}"
                        ) from None
                    if time.monotonic() - began >= LOCK_STALL_S:  # a holder has had time
                        _raise_if_stalled(path)                   # to write its name
                    time.sleep(LOCK_POLL_S)
            stop = threading.Event()
            beat = threading.Thread(target=_beat, args=(handle, path, stop), daemon=True)
            beat.start()
            try:
                yield
            finally:
                stop.set()
                beat.join()
                fcntl.flock(handle, fcntl.LOCK_UN)


LOCK_BEAT_S = 2.0
LOCK_STALL_S = 30.0
LOCK_POLL_S = 0.25


def _beat(handle: BinaryIO, path: Path, stop: threading.Event) -> None:
    """Say who holds the lock, then touch its file until ``stop``."""
    holder = json.dumps({"pid": os.getpid(), "since": time.time()}).encode()
    with contextlib.suppress(OSError):
        handle.seek(0)
        handle.truncate()
        handle.write(holder)
        handle.flush()
    while not stop.wait(LOCK_BEAT_S):
        with contextlib.suppress(OSError):
            os.utime(path)


def _raise_if_stalled(path: Path) -> None:
    try:
        quiet = time.time() - path.stat().st_mtime
        holder = json.loads(path.read_bytes() or b"{}")
    except (OSError, ValueError):
        return
    if quiet < LOCK_STALL_S or not isinstance(holder, dict):
        return
    since = holder.get("since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if isinstance(
        since, int | float) else "an unknown time"
    raise IndexBusyError(
        f"the index in {path.parent} is locked by process {holder.get('pid', '?')} since "
        f"{when}, which has made no progress for {quiet:.0f} s; if it is stuck, stop it "
        "and run the command again")


class _Collection:
    """A Chroma collection whose every call fails as a ``RagError`` (``StoreFaults``)."""

    def __init__(self, collection: Any, faults: StoreFaults) -> None:
        self._collection = collection
        self._faults = faults

    def get(self, **kwargs: Any) -> Any:
        with self._faults.call("read the index"):
            return self._collection.get(**kwargs)

    def query(self, **kwargs: Any) -> Any:
        with self._faults.call("search the index"):
            return self._collection.query(**kwargs)

    def count(self) -> int:
        with self._faults.call("read the index"):
            return int(self._collection.count())

    def upsert(self, **kwargs: Any) -> None:
        with self._faults.call("write the index"):
            self._collection.upsert(**kwargs)

    def delete(self, **kwargs: Any) -> None:
        with self._faults.call("write the index"):
            self._collection.delete(**kwargs)


def _merged(ids: list[str], known: dict[str, int], kept: Records | None,
            fresh: Iterator[Records], with_vectors: bool) -> Records:
    """The records ``ids`` in that order: row ``known[i]`` of ``kept`` where known, the
    rest from ``fresh``, windows that hold them in the same order, each read only when
    the last is used up (all of them with vectors if asked)."""
    fields: dict[str, list[Any]] = {name: [] for name in _FIELDS}
    rows = np.empty((len(ids), EMBEDDING_DIM), dtype=np.float32) if with_vectors else None
    window: Records | None = None
    taken = 0
    for n, rid in enumerate(ids):
        if kept is not None and rid in known:
            source, row = kept, known[rid]
        else:
            if window is None or taken == len(window.ids):
                window, taken = next(fresh), 0
            source, row = window, taken
            taken += 1
        for name in _FIELDS:
            fields[name].append(getattr(source, name)[row])
        if rows is not None and source.vectors is not None:
            rows[n] = source.vectors[row]
    return Records(**fields, vectors=rows)


def _json_bytes(value: Any, encoded: bytearray | None = None) -> bytearray:
    """``json.dumps(value).encode()``, without ever holding the whole text (30 MiB for a
    100k-line copy's header) beside its bytes: objects are written key by key and lists
    ``COPY_WINDOW`` items at a time."""
    encoded = bytearray() if encoded is None else encoded
    if isinstance(value, dict):
        encoded += b"{"
        for n, (key, item) in enumerate(value.items()):
            encoded += (b", " if n else b"") + json.dumps(key).encode() + b": "
            _json_bytes(item, encoded)
        encoded += b"}"
    elif isinstance(value, list):
        encoded += b"["
        for begin in range(0, len(value), COPY_WINDOW):
            part = json.dumps(value[begin : begin + COPY_WINDOW])
            encoded += (b", " if begin else b"") + part[1:-1].encode()
        encoded += b"]"
    else:
        encoded += json.dumps(value).encode()
    return encoded


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


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _open_client(index_dir: Path, chroma_url: str | None, timeout_s: float) -> Any:
    """Chroma's client; raises what Chroma raises (``StoreFaults`` translates it)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not chroma_url:
        index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)
    import httpx

    host, port = _host_port(chroma_url)
    # The client asks the server things as it is made, with no timeout: a frozen server
    # must fail this heartbeat instead.
    httpx.get(f"http://{host}:{port}/api/v2/heartbeat", timeout=timeout_s).raise_for_status()
    try:
        client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
    except ValueError as exc:  # chromadb's word for "no server answered the heartbeat"
        raise IndexBuildError(f"cannot reach the Chroma server at {chroma_url}: {exc}") from exc
    # chromadb 1.5 gives its HTTP session no timeout, so a frozen server would block a
    # question for ever; every server call gets RAG_TIMEOUT instead.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is None:
        raise IndexBuildError("this chromadb version's HTTP client cannot be given a timeout")
    session.timeout = httpx.Timeout(timeout_s)
    return client


def _host_port(url: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        raise ConfigError(f"RAG_CHROMA_URL {url!r} has no host")
    return parts.hostname, parts.port or 8000
