"""The default backend: answers by quoting the retrieved sentences that answer the
question, each with its line; refuses when none does. Offline and deterministic.

A sentence answers a question when
1. it is about what the question is about: close in meaning (MiniLM cosine) and sharing
   its rarer words (IDF-weighted coverage);
2. it names the question's names, codes and places, all but at most one, and that one
   nearby in the same document (the "Vostok-2022" of "the exercises");
3. it holds an answer of the asked kind that the question does not already hold: a
   number for "how many", a sum for "how much", a date for "when", a name for "who", and
   for a number, one counting the thing asked about ("50,000 soldiers" for "troops"),
   in the clause that names the question's subject (India's 450 does not answer a
   question about Algeria).
Thresholds were calibrated on ``evals/dev.jsonl`` (see ``benchmarks/calibrate.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.answer.base import Draft, DraftCitation
from rag.answer.question import (
    DATE,
    DURATION,
    MONEY,
    NAME,
    NUMBER,
    QuestionInfo,
    analyze_question,
    canonical,
)
from rag.answer.slots import Slot, clauses, find_slots
from rag.retrieval import Retriever
from rag.text import words
from rag.types import Passage

__all__ = ["ExtractiveBackend", "ExtractiveParams"]

_TYPED = (NUMBER, MONEY, DATE, DURATION, NAME)
_COUNTED = (NUMBER, DURATION)


@dataclass(frozen=True)
class ExtractiveParams:
    candidates: int = 30  # sentences retrieved per question
    lexical_weight: float = 0.5
    threshold: float = 0.55  # the least relevance of an answering sentence
    unit_similarity: float = 0.45  # least cosine between a number's unit and the asked noun
    keep_within: float = 0.12  # further sentences kept if this close to the best
    same_fact: float = 0.72  # cosine above which two sentences say the same thing
    max_sentences: int = 3


@dataclass
class _Candidate:
    passage: Passage
    relevance: float
    slots: list[Slot]
    covers: frozenset[str]  # canonical focus terms named in the sentence itself


class ExtractiveBackend:
    name = "extractive"

    def __init__(self, params: ExtractiveParams | None = None) -> None:
        self.params = params or ExtractiveParams()

    def answer(self, question: str, retriever: Retriever, top_k: int) -> Draft:
        info = analyze_question(question)
        if any(not retriever.knows(term) for term in _hard_focus(info)):
            return Draft.refusal()
        vector = retriever.embed_query(info.text)
        passages = retriever.search(
            info.text, max(self.params.candidates, 3 * top_k), "sentences", vector
        )
        candidates = [c for p in passages if (c := self._judge(info, p, retriever))]
        if not candidates:
            return Draft.refusal()
        chosen = self._select(candidates, retriever)
        return _compose(chosen, info)

    def _judge(self, info: QuestionInfo, passage: Passage, retriever: Retriever) -> _Candidate | None:
        p = self.params
        sentence_terms = {canonical(w) for w in words(passage.text)}
        coverage = retriever.coverage(info.terms, sentence_terms)
        relevance = (passage.dense_score or 0.0) + p.lexical_weight * coverage
        if relevance < p.threshold:
            return None
        focus = set(info.focus)
        covers = frozenset(focus & sentence_terms)
        missing = focus - covers
        if len(missing) > 1:
            return None
        if missing:
            context = retriever.context_terms(passage.source, passage.start_line)
            if not missing <= context:
                return None
        slots: list[Slot] = []
        if info.kind in _TYPED:
            slots = find_slots(passage.text, info.kind, frozenset(focus))
            slots = _in_subject_clauses(passage.text, slots, covers, focus)
            if info.kind in _COUNTED and info.target:
                slots = [s for s in slots if self._counts(s, info.target, retriever)]
            if not slots:
                return None
        return _Candidate(passage, relevance, slots, covers)

    def _counts(self, slot: Slot, target: str, retriever: Retriever) -> bool:
        if slot.unit is None:
            return False
        if canonical(slot.unit) == target:
            return True
        return _word_similarity(retriever, slot.unit, target) >= self.params.unit_similarity

    def _select(self, candidates: list[_Candidate], retriever: Retriever) -> list[_Candidate]:
        ranked = sorted(candidates, key=lambda c: -c.relevance)
        best = ranked[0]
        chosen = [best]
        texts = [best.passage.text]
        for other in ranked[1:]:
            if len(chosen) == self.params.max_sentences:
                break
            if other.relevance < best.relevance - self.params.keep_within:
                break
            if any(_same_line(other, c) for c in chosen):
                continue
            similar = _similarity(retriever, other.passage.text, texts)
            new_file = all(other.passage.source != c.passage.source for c in chosen)
            if similar >= self.params.same_fact and new_file:
                chosen.append(other)  # the same fact reported by another file
                texts.append(other.passage.text)
        return chosen


def _hard_focus(info: QuestionInfo) -> list[str]:
    """Names and codes of the question (numbers excluded: a wrong number is a premise
    to correct, not a reason to refuse)."""
    return [t for t in info.focus if not t.replace(".", "").isdigit()]


def _in_subject_clauses(
    sentence: str, slots: list[Slot], covers: frozenset[str], focus: set[str]
) -> list[Slot]:
    """Slots in a clause naming one of the question's names, when the sentence has such
    a clause and another clause names someone else."""
    if not covers:
        return slots
    names = [t for t in covers if not t.isdigit()]
    if not names:
        return slots
    spans = clauses(sentence)
    if len(spans) < 2:
        return slots
    subject = [
        (a, b) for a, b in spans
        if {canonical(w) for w in words(sentence[a:b])} & set(names)
    ]
    return [s for s in slots if any(a <= s.start < b for a, b in subject)]


def _same_line(a: _Candidate, b: _Candidate) -> bool:
    return (a.passage.source, a.passage.start_line) == (b.passage.source, b.passage.start_line)


def _similarity(retriever: Retriever, text: str, others: list[str]) -> float:
    vectors = retriever.embedder.embed([text, *others])
    return float(np.max(vectors[1:] @ vectors[0]))


@lru_cache(maxsize=4096)
def _cached_word_vector(retriever_id: int, word: str, embedder: object) -> tuple[float, ...]:
    return tuple(embedder.embed_one(word).tolist())  # type: ignore[attr-defined]


def _word_similarity(retriever: Retriever, a: str, b: str) -> float:
    va = np.array(_cached_word_vector(0, a, retriever.embedder))
    vb = np.array(_cached_word_vector(0, b, retriever.embedder))
    return float(va @ vb)


def _compose(chosen: list[_Candidate], info: QuestionInfo) -> Draft:
    citations: list[DraftCitation] = []
    parts: list[str] = []
    for candidate in chosen:
        p = candidate.passage
        citations.append(DraftCitation(p.source, p.start_line, p.end_line, (p.text,)))
        parts.append(f"{p.text} [{len(citations)}]")
    return Draft(text=" ".join(parts), citations=citations)
