"""Word-level similarity from the sentence embedder, cached: "troops" is close to
"soldiers", "involved" to "participate", "killed" to neither."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from rag.embeddings import MiniLMEmbedder

__all__ = ["WordVectors"]


class WordVectors:
    """Embeds single words on demand and keeps them (a corpus has a bounded vocabulary)."""

    def __init__(self, embedder: MiniLMEmbedder, limit: int = 200_000) -> None:
        self.embedder = embedder
        self.limit = limit
        self._vectors: dict[str, npt.NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    def prepare(self, words: Iterable[str]) -> None:
        """Embed every word not yet known, in one batch."""
        with self._lock:
            new = sorted({w for w in words if w and w not in self._vectors})
            if not new:
                return
            if len(self._vectors) + len(new) > self.limit:
                self._vectors.clear()
            for word, vector in zip(new, self.embedder.embed(new), strict=True):
                self._vectors[word] = vector

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
