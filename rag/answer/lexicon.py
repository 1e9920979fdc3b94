"""Word-level similarity from the sentence embedder, cached: "troops" is close to
"soldiers", "involved" to "participate", "killed" to neither.

A word takes MiniLM about as long as a sentence (some 3 ms here), and a first ask meets a
few hundred: most of a cold ``rag ask``. So the packaged embedder's word vectors are
also kept on disk (``word_cache``, in rag's cache folder, not beside an index: they hold
words of questions too) and read by the next process. Exact: a vector does not depend on
what it was embedded beside, and the file keeps its float32 bits; a file that cannot be
read or written is ignored.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rag.embeddings import EMBEDDING_DIM, MODEL_ID, MiniLMEmbedder
from rag.settings import cache_dir

__all__ = ["SAVE_EVERY", "WordVectors", "word_cache"]

SAVE_EVERY = 32  # new words that make the file worth writing again (or a tenth more)


_KEPT: weakref.WeakKeyDictionary[MiniLMEmbedder, WordVectors] = weakref.WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def word_cache(embedder: MiniLMEmbedder) -> Path | None:
    """Where the word vectors of ``embedder`` are kept between processes: only for the
    packaged model and tokenizer, whose vectors the file's name stands for."""
    if embedder.model_path is not None or embedder.tokenizer_path is not None:
        return None
    return cache_dir(os.environ) / f"words-{MODEL_ID}.npz"


class WordVectors:
    """Embeds single words on demand and keeps them (a corpus has a bounded vocabulary);
    with ``path``, also in that file, read when made and written as new words come."""

    def __init__(
        self, embedder: MiniLMEmbedder, limit: int = 200_000, path: Path | None = None
    ) -> None:
        self.embedder = embedder
        self.limit = limit
        self.path = path
        self._vectors: dict[str, npt.NDArray[np.float32]] = {}
        self._lock = threading.Lock()
        self._saved = 0  # words the file holds, as last read or written
        if path is not None:
            self._load(path)

    @classmethod
    def kept(cls, embedder: MiniLMEmbedder) -> WordVectors:
        """The word vectors of ``embedder``: one set per embedder in a process, shared by
        every backend and engine that uses it, and kept in rag's cache folder where it
        is the packaged model (``word_cache``)."""
        with _KEPT_LOCK:
            found = _KEPT.get(embedder)
            if found is None:
                found = _KEPT[embedder] = cls(embedder, path=word_cache(embedder))
            return found

    def prepare(self, words: Iterable[str]) -> None:
        """Embed every word not yet known, in one batch."""
        with self._lock:
            new = sorted({w for w in words if w and w not in self._vectors})
            if not new:
                return
            if len(self._vectors) + len(new) > self.limit:
                self._vectors.clear()
                self._saved = 0
            for word, vector in zip(new, self.embedder.embed(new), strict=True):
                self._vectors[word] = vector
            if len(self._vectors) - self._saved >= max(SAVE_EVERY, self._saved // 10):
                self._save()

    def _load(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as data:
                words, vectors = data["words"], data["vectors"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return
        if vectors.dtype != np.float32 or vectors.shape != (len(words), EMBEDDING_DIM):
            return
        for word, vector in zip(words.tolist(), vectors, strict=True):
            self._vectors[str(word)] = vector
        self._saved = len(self._vectors)

    def _save(self) -> None:
        """Write the known words to ``path`` (whole, then renamed over it: a reader sees
        the old file or the new one); a failure stops the writing, not the answer."""
        if self.path is None:
            return
        words = list(self._vectors)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as out:
                np.savez(out, words=np.array(words),
                         vectors=np.stack([self._vectors[w] for w in words]))
            os.replace(temporary, self.path)
            self._saved = len(words)
        except OSError:
            self.path = None
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)

    def similarity(self, a: str, b: str) -> float:
        if a == b:
            return 1.0
        self.prepare((a, b))
        return float(self._vectors[a] @ self._vectors[b])

    def soft_coverage(
        self, wanted: dict[str, float], present: Iterable[str], floor: float = 0.35
    ) -> float:
        """Weighted share of the wanted words (word -> weight) that ``present`` has or has
        a near word for: each counts with its best similarity, 0 below ``floor``."""
        present = list(dict.fromkeys(present))
        total = sum(wanted.values())
        if not wanted or not present or total <= 0:
            return 0.0
        self.prepare([*wanted, *present])
        a = np.stack([self._vectors[w] for w in wanted])
        b = np.stack([self._vectors[w] for w in present])
        best = np.max(a @ b.T, axis=1)
        best = np.where(best >= floor, best, 0.0)
        weights = np.array(list(wanted.values()))
        return float(np.dot(best, weights) / total)

    def best_each(self, wanted: Iterable[str], present: Iterable[str]) -> list[float]:
        """``best([word], present)`` for each wanted word, ``present`` stacked once."""
        wanted, present = list(wanted), list(present)
        if not wanted or not present:
            return [0.0] * len(wanted)
        self.prepare([*wanted, *present])
        b = np.stack([self._vectors[w] for w in present]).T
        return [float(np.max(self._vectors[w][None, :] @ b)) for w in wanted]

    def best(self, wanted: Iterable[str], present: Iterable[str]) -> float:
        """The highest similarity between any wanted word and any present word."""
        wanted, present = list(wanted), list(present)
        if not wanted or not present:
            return 0.0
        self.prepare([*wanted, *present])
        a = np.stack([self._vectors[w] for w in wanted])
        b = np.stack([self._vectors[w] for w in present])
        return float(np.max(a @ b.T))
