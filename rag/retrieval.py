"""Hybrid retrieval: dense (MiniLM cosine) plus lexical (BM25), fused by reciprocal rank
fusion.

Dense retrieval finds paraphrases; BM25 finds rare exact words (names, numbers, model
designations such as ``T-90``) that a small embedding model blurs. Rank fusion needs no
score calibration between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rag.embeddings import EMBEDDING_DIM, MiniLMEmbedder
from rag.index.manifest import CHUNKS, LEVELS, SENTENCES, Level
from rag.language.words import BASE, Vocabulary, terms
from rag.stats import CorpusStats
from rag.store import EXACT_RECORDS, IndexStore, Manifest, Records
from rag.types import Passage

__all__ = ["EXACT_RECORDS", "RRF_K", "WIDER", "Retriever", "fuse_rankings"]

RRF_K = 60

WIDER = 3
"""A larger level is searched through Chroma's HNSW index, asking for this many times the
records wanted and keeping the nearest: the approximate search's misses fall in the tail."""


def fuse_rankings(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: each id scores the sum of ``1 / (k + rank)`` over rankings."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


@dataclass
class _Level:
    records: Records
    position: dict[str, int]
    bm25: Any


class Retriever:
    """Searches one committed snapshot of the index (the manifest it was built from)."""

    def __init__(
        self, store: IndexStore, manifest: Manifest, embedder: MiniLMEmbedder,
        vocab: Vocabulary = BASE,
    ) -> None:
        """``vocab`` sets the forms of the word statistics (``stats``): those of the
        backend that reads them."""
        import bm25s

        self.store = store
        self.manifest = manifest
        self.embedder = embedder
        self.vocab = vocab
        self._levels: dict[Level, _Level] = {}
        self._stats: CorpusStats | None = None
        self._stored: dict[str, int] = {}  # records in each level's collection, counted
        self._by_text: dict[str, npt.NDArray[np.float32]] | None = None
        self._stored_ids: dict[str, tuple[Level, str]] = {}  # text -> (level, id), in Chroma
        for level in LEVELS:
            count = sum(len(entry.ids[level]) for entry in manifest.files.values())
            records = store.records(manifest, level, vectors=count <= EXACT_RECORDS)
            bm25 = bm25s.BM25()
            if records.ids:
                bm25.index([terms(records.searchable(i)) or ["\u2205"]
                            for i in range(len(records.ids))], show_progress=False)
            self._levels[level] = _Level(
                records, {rid: i for i, rid in enumerate(records.ids)}, bm25
            )

    @property
    def stats(self) -> CorpusStats:
        """Word statistics of the sentence records (idf, the corpus's spelling of a word,
        the words around a line), made the first time they are asked for."""
        if self._stats is None:
            self._stats = CorpusStats(self._levels[SENTENCES].records, self.vocab)
        return self._stats

    def size(self, level: Level = CHUNKS) -> int:
        return len(self._levels[level].records.ids)

    def embed_query(self, question: str) -> npt.NDArray[np.float32]:
        return self.embedder.embed_one(question)

    def text_vectors(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors of ``texts``: read from the index where a record was embedded from
        exactly that text (a sentence or line of a plain-text file), embedded otherwise.
        A level searched in memory has its vectors at hand; one searched through Chroma
        (over ``EXACT_RECORDS``) has them read from it by record id. The stored vector and
        a fresh one differ by float rounding only (about 1e-8)."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        if self._by_text is None:
            found: dict[str, npt.NDArray[np.float32]] = {}
            stored: dict[str, tuple[Level, str]] = {}
            for name, level in self._levels.items():
                records = level.records
                for i, text in enumerate(records.texts):
                    if records.searchable(i) != text:
                        continue
                    if records.vectors is not None:
                        found.setdefault(text, records.vectors[i])
                    else:
                        stored.setdefault(text, (name, records.ids[i]))
            self._by_text, self._stored_ids = found, stored
        known = self._by_text
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        fetched = self._stored_vectors([t for t in missing if t in self._stored_ids])
        missing = [t for t in missing if t not in fetched]
        fetched.update(zip(missing, self.embedder.embed_known(missing), strict=True))
        return np.stack([known[t] if t in known else fetched[t] for t in texts])

    def _stored_vectors(self, texts: list[str]) -> dict[str, npt.NDArray[np.float32]]:
        """The vectors Chroma holds for ``texts`` (each named in ``_stored_ids``); a text
        whose record it no longer returns is left out, to be embedded."""
        wanted: dict[Level, dict[str, str]] = {}
        for text in texts:
            level, rid = self._stored_ids[text]
            wanted.setdefault(level, {})[rid] = text
        return {by_id[rid]: vector for level, by_id in wanted.items()
                for rid, vector in self._chroma_vectors(level, list(by_id)).items()}

    def _chroma_vectors(self, level: Level, ids: list[str]) -> dict[str, npt.NDArray[np.float32]]:
        """The vectors Chroma returns for the records ``ids`` of ``level``, by id."""
        got = self.store.collections[level].get(ids=ids, include=["embeddings"])
        return {rid: np.asarray(vector, dtype=np.float32)
                for rid, vector in zip(got["ids"], got["embeddings"], strict=True)}

    def search(
        self,
        question: str,
        k: int,
        level: Level = CHUNKS,
        query_vector: npt.NDArray[np.float32] | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages of ``level`` for ``question``, best first."""
        index = self._levels[level]
        if not index.records.ids or k < 1:
            return []
        vector = self.embed_query(question) if query_vector is None else query_vector
        depth = min(len(index.records.ids), max(4 * k, 30))
        dense = self._dense(level, vector, depth)
        lexical = self._lexical(index, question, depth)
        fused = fuse_rankings([list(dense), list(lexical)])
        best = sorted(fused, key=lambda rid: (-fused[rid], index.position[rid]))[:k]
        missing = [rid for rid in best if rid not in dense]
        if missing:
            dense.update(self._cosines(level, vector, missing))
        passages = []
        for rid in best:
            i = index.position[rid]
            passages.append(
                Passage(
                    source=index.records.sources[i],
                    start_line=index.records.start_lines[i],
                    end_line=index.records.end_lines[i],
                    text=index.records.texts[i],
                    score=fused[rid],
                    dense_score=dense.get(rid),
                    lexical_score=lexical.get(rid),
                )
            )
        return passages

    def _dense(self, level: Level, vector: npt.NDArray[np.float32], depth: int) -> dict[str, float]:
        """The ``depth`` nearest live records and their cosines, nearest first (ties in
        corpus order)."""
        index = self._levels[level]
        if index.records.vectors is not None:
            cosines = index.records.vectors @ vector
            return {index.records.ids[i]: float(cosines[i]) for i in _best(cosines, depth)}
        return self._approximate(level, vector, depth)

    def _approximate(
        self, level: Level, vector: npt.NDArray[np.float32], depth: int
    ) -> dict[str, float]:
        """``_dense`` through Chroma's HNSW index, ``WIDER`` times as many asked for. The
        collection may hold records no manifest names yet (another process's build): the
        query asks for as many more. Its size is counted once per retriever, and again only
        when records other than these ranked ours out of a query (that build went on)."""
        live = self._levels[level].position
        collection = self.store.collections[level]
        for fresh in (False, True):
            if fresh or level not in self._stored:
                self._stored[level] = collection.count()
            stored = self._stored[level]
            wanted = min(stored, WIDER * depth + stored - len(live))
            result = collection.query(query_embeddings=[vector], n_results=wanted,
                                      include=["distances"])
            ranked: dict[str, float] = {}
            for rid, distance in zip(result["ids"][0], result["distances"][0], strict=True):
                if rid in live and len(ranked) < depth:
                    ranked[rid] = 1.0 - float(distance)
            if len(ranked) >= min(depth, len(live)) or len(result["ids"][0]) < wanted:
                break
        return ranked

    def _lexical(self, index: _Level, question: str, depth: int) -> dict[str, float]:
        query = terms(question)
        if not query:
            return {}
        scores = index.bm25.get_scores(query)
        # Only records holding a query term score above 0 (3 % of 100k sentences on
        # SQuAD questions): selecting among them alone gives the same best, in the same
        # order, at a tenth of the cost of selecting among all.
        scored = np.flatnonzero(scores > 0)
        best = scored[_best(scores[scored], depth)]
        return {index.records.ids[i]: float(scores[i]) for i in best}

    def _cosines(
        self, level: Level, vector: npt.NDArray[np.float32], ids: list[str]
    ) -> dict[str, float]:
        index = self._levels[level]
        if index.records.vectors is not None:
            return {rid: float(index.records.vectors[index.position[rid]] @ vector)
                    for rid in ids}
        return {rid: float(np.dot(stored, vector))
                for rid, stored in self._chroma_vectors(level, ids).items()}


def _best(scores: npt.NDArray[Any], depth: int) -> npt.NDArray[np.intp]:
    """Positions of the ``depth`` highest scores, highest first, ties in position order:
    what a stable sort of every score gives, without sorting them all (a sort of 100k
    sentences' scores took a millisecond, twice a search)."""
    if depth <= 0:
        return np.zeros(0, dtype=np.intp)
    if depth >= len(scores):
        return np.argsort(-scores, kind="stable")
    cut = np.partition(scores, len(scores) - depth)[len(scores) - depth]
    kept = np.flatnonzero(scores >= cut)  # every tie at the cut, in position order
    return kept[np.argsort(-scores[kept], kind="stable")][:depth]
