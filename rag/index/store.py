"""``IndexStore``: the index of one corpus in one index folder, tying together its
manifest, committed copy, Chroma collections, build lock and builds."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rag.chunking import DEFAULT_CHUNK_TOKENS
from rag.corpus import scan_corpus
from rag.embeddings import MiniLMEmbedder
from rag.faults import StoreFaults
from rag.index.build import Builder, Progress
from rag.index.chroma import ChromaIndex, _Collection
from rag.index.copy import CommittedCopy
from rag.index.lock import locked
from rag.index.manifest import Level, Manifest, ManifestFile
from rag.index.records import Records
from rag.types import IndexStats
from rag.watch import ChangeWatch

__all__ = ["IndexStore"]


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
        self._chroma = ChromaIndex(index_dir, chroma_url, self.key, self.faults, timeout_s)
        self._watch = ChangeWatch(self.corpus)
        self._fresh_for: Manifest | None = None  # the manifest a scan last found fresh
        self._manifests = ManifestFile(self.manifest_path, self.corpus, chunk_tokens)
        self.copy_path = index_dir / f"records-{self.key}.npz"
        self._copy = CommittedCopy(self.copy_path, chunk_tokens)

    @property
    def collections(self) -> dict[str, _Collection]:
        """The Chroma collections, opened on first use (so that ``rebuild`` can move a
        damaged index aside before anything opens it)."""
        return self._chroma.collections

    def read_manifest(self) -> Manifest:
        """The committed manifest; an empty one if none, or if it is from another setup.
        Parsed again only when the file's stamp changed (every ask reads it), so callers
        share one object and must not change it."""
        return self._manifests.read()

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
            with locked(self.index_dir, wait):
                # Another process may have built meanwhile: the manifest is read under the lock.
                return self._build(self.read_manifest(), progress)

    def rebuild(self, progress: Progress | None = None) -> IndexStats:
        """Build the index from nothing. An embedded index's Chroma folder is moved aside
        (``chroma.damaged-<time>``, for a post-mortem; delete it at will) with every
        manifest that named its records; on a server this corpus's collections are
        dropped."""
        with self.faults.call("rebuild the index"):
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with locked(self.index_dir, True):
                if self.chroma_url:
                    self._chroma.drop()
                    self.manifest_path.unlink(missing_ok=True)
                else:
                    self._chroma.move_aside()
                    for manifest in self.index_dir.glob("manifest-*.json"):
                        manifest.unlink()
                    for copy in self.index_dir.glob("records-*.npz"):
                        copy.unlink()
                    self._copy.forget()
                self._chroma.close()
                return self._build(self.read_manifest(), progress)

    def records(self, manifest: Manifest, level: Level, *, vectors: bool = False) -> Records:
        """Text and lines of every live record of ``level``, and their stored vectors
        when asked: from the committed copy when it holds exactly these records (so a
        question over a fresh embedded index never opens Chroma), else from Chroma."""
        ids = manifest.level_ids(level)
        if not self.chroma_url:
            copied = self._copy.copied(level, ids, vectors)
            if copied is not None:
                return copied
        return self._from_chroma(level, ids, vectors)

    def _from_chroma(self, level: Level, ids: list[str], vectors: bool) -> Records:
        return self._chroma.records(level, ids, vectors)

    def _build(self, old: Manifest, progress: Progress | None) -> IndexStats:
        builder = Builder(self.corpus, self.index_dir, self.chunk_tokens, self.embedder,
                          self._chroma, self._manifests)
        new, stats = builder.commit(old, progress)
        # The corpus's text and pieces went with ``commit``: the copy, the build's peak
        # at 100k lines, is not written on top of them.
        if not self.chroma_url:
            self._copy.save(new, self._from_chroma)
        return stats

