"""Hybrid retrieval: dense (MiniLM cosine) plus lexical (BM25), fused by reciprocal rank
fusion.

Dense retrieval finds paraphrases; BM25 finds rare exact words (names, numbers, model
designations such as ``T-90``) that a small embedding model blurs. Rank fusion needs no
score calibration between the two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rag.embeddings import EMBEDDING_DIM, MiniLMEmbedder
from rag.language.words import BASE, Vocabulary, terms, words
from rag.store import EXACT_RECORDS, LEVELS, IndexStore, Manifest, Records
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


@dataclass
class _Stats:
    """Word statistics of the sentence records, in the forms of the retriever's vocabulary."""

    vocabulary: set[str]
    doc_freq: dict[str, int]
    count: int
    lines: dict[str, dict[int, set[str]]]
    texts: dict[str, dict[int, list[str]]]
    documents: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Records, vocab: Vocabulary) -> _Stats:
        doc_freq: dict[str, int] = {}
        lines: dict[str, dict[int, set[str]]] = {}
        texts: dict[str, dict[int, list[str]]] = {}
        for text, source, line in zip(
            records.texts, records.sources, records.start_lines, strict=True
        ):
            found = vocab.forms(words(text))
            for term in found:
                doc_freq[term] = doc_freq.get(term, 0) + 1
            lines.setdefault(source, {}).setdefault(line, set()).update(found)
            texts.setdefault(source, {}).setdefault(line, []).append(text)
        return cls(set(doc_freq), doc_freq, len(records.texts), lines, texts)

    def idf(self, term: str) -> float:
        df = self.doc_freq.get(term, 0)
        return math.log(1.0 + (self.count - df + 0.5) / (df + 0.5))


class Retriever:
    """Searches one committed snapshot of the index (the manifest it was built from)."""

    def __init__(
        self, store: IndexStore, manifest: Manifest, embedder: MiniLMEmbedder,
        vocab: Vocabulary = BASE,
    ) -> None:
        """``vocab`` sets the forms of the word statistics (``resolve``, ``idf``,
        ``document_terms``...): those of the backend that reads them."""
        import bm25s

        self.store = store
        self.manifest = manifest
        self.embedder = embedder
        self.vocab = vocab
        self._levels: dict[str, _Level] = {}
        self._stats: _Stats | None = None
        self._stored: dict[str, int] = {}  # records in each level's collection, counted
        self._by_text: dict[str, npt.NDArray[np.float32]] | None = None
        self._stored_ids: dict[str, tuple[str, str]] = {}  # text -> (level, id), in Chroma
        self._lowered: str | None = None  # every sentence record's text, for ``mentions``
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

    def resolve(self, term: str) -> str | None:
        """The corpus's spelling of a canonical word, allowing a near spelling for long
        words ("rostec" finds "rostech"); None if the corpus does not have it."""
        vocab = self._sentence_stats().vocabulary
        if term in vocab:
            return term
        if len(term) < 5:
            return None
        near = [
            v for v in vocab
            if len(v) >= 4 and abs(len(v) - len(term)) <= 2
            and (v.startswith(term) or term.startswith(v))
        ]
        return min(near, key=lambda v: (abs(len(v) - len(term)), v)) if near else None

    def coverage(self, question_terms: Sequence[str], sentence_terms: set[str]) -> float:
        """IDF-weighted share of the question's words that the sentence has; words the
        corpus lacks are left out (no sentence could have them)."""
        stats = self._sentence_stats()
        question_terms = [t for t in question_terms if t in stats.doc_freq]
        total = sum(stats.idf(t) for t in question_terms)
        if total == 0:
            return 0.0
        return sum(stats.idf(t) for t in question_terms if t in sentence_terms) / total

    def idf(self, term: str) -> float:
        """Inverse document frequency of a canonical word over the sentences."""
        return self._sentence_stats().idf(term)

    def context_terms(self, source: str, line: int) -> set[str]:
        """Words of ``line``, the three lines before it, and the document's first line."""
        lines = self._sentence_stats().lines.get(source, {})
        found: set[str] = set(lines.get(1, set()))
        for number in range(max(1, line - 3), line + 1):
            found |= lines.get(number, set())
        return found

    def document_terms(self, source: str) -> set[str]:
        """Every canonical word of one document."""
        stats = self._sentence_stats()
        if source not in stats.documents:
            stats.documents[source] = set().union(*stats.lines.get(source, {}).values())
        return stats.documents[source]

    def line_sentences(self, source: str, line: int) -> list[str]:
        """The sentence records of one line, in order."""
        return self._sentence_stats().texts.get(source, {}).get(line, [])

    def previous_lines(self, source: str, line: int, count: int) -> list[int]:
        """Up to ``count`` non-blank line numbers before ``line``, nearest first."""
        lines = self._sentence_stats().texts.get(source, {})
        return [n for n in range(line - 1, 0, -1) if n in lines][:count]

    def size(self, level: str = "chunks") -> int:
        return len(self._levels[level].records.ids)

    def _sentence_stats(self) -> _Stats:
        if self._stats is None:
            self._stats = _Stats.of(self._levels["sentences"].records, self.vocab)
        return self._stats

    def mentions(self, text: str) -> bool:
        """Whether some sentence record holds ``text``, letter case aside."""
        if self._lowered is None:
            self._lowered = "\n".join(self._levels["sentences"].records.texts).lower()
        return text.lower() in self._lowered

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
            stored: dict[str, tuple[str, str]] = {}
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
        wanted: dict[str, dict[str, str]] = {}
        for text in texts:
            level, rid = self._stored_ids[text]
            wanted.setdefault(level, {})[rid] = text
        return {by_id[rid]: vector for level, by_id in wanted.items()
                for rid, vector in self._chroma_vectors(level, list(by_id)).items()}

    def _chroma_vectors(self, level: str, ids: list[str]) -> dict[str, npt.NDArray[np.float32]]:
        """The vectors Chroma returns for the records ``ids`` of ``level``, by id."""
        got = self.store.collections[level].get(ids=ids, include=["embeddings"])
        return {rid: np.asarray(vector, dtype=np.float32)
                for rid, vector in zip(got["ids"], got["embeddings"], strict=True)}

    def search(
        self,
        question: str,
        k: int,
        level: str = "chunks",
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

    def _dense(self, level: str, vector: npt.NDArray[np.float32], depth: int) -> dict[str, float]:
        """The ``depth`` nearest live records and their cosines, nearest first (ties in
        corpus order)."""
        index = self._levels[level]
        if index.records.vectors is not None:
            cosines = index.records.vectors @ vector
            return {index.records.ids[i]: float(cosines[i]) for i in _best(cosines, depth)}
        return self._approximate(level, vector, depth)

    def _approximate(
        self, level: str, vector: npt.NDArray[np.float32], depth: int
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
        self, level: str, vector: npt.NDArray[np.float32], ids: list[str]
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
