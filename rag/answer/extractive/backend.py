"""The extractive backend itself: what it retrieves for a question, how the judge, the
scorer and the answerability model rank it, and which candidates the answer quotes
(the package's docstring tells the whole path).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import takewhile

import numpy as np

from rag.answer.answerability import AnswerabilityModel, packaged_model
from rag.answer.base import Draft
from rag.answer.extractive.compose import compose
from rag.answer.extractive.focus import resolve_focus
from rag.answer.extractive.judge import Candidate, Judge
from rag.answer.extractive.scorer import LinearScorer
from rag.answer.lexicon import WordVectors
from rag.answer.vocabulary import analyze_question
from rag.index.manifest import CHUNKS, SENTENCES
from rag.language.figures import MONEY, NUMBER
from rag.language.questions import QuestionInfo, split_question
from rag.language.words import words
from rag.markdown_lines import MarkdownLines
from rag.retrieval import Retriever

__all__ = ["ExtractiveBackend", "ExtractiveParams"]


@dataclass(frozen=True)
class ExtractiveParams:
    candidates: int = 30  # sentences retrieved per question
    asked_similarity: float = 0.4  # a word this close to an asked word counts as it
    unit_similarity: float = 0.45  # least cosine between a number's unit and the asked noun
    same_fact: float = 0.8  # cosine above which two sentences say the same thing
    same_topic: float = 0.5  # cosine above which two figures answer the same question
    max_sentences: int = 3
    # A differing figure for the same thing is shown (a conflict) even when it scored
    # well below the best, if the answerability model gives it at least this.
    conflict_model: float = 0.4
    reranked: int = 8  # best candidates (by the other features) the answerability model reads
    # A question word this rare (inverse sentence frequency) marks the code lines to quote.
    key_idf: float = 2.5
    prune: bool = True  # ... less those whose probability cannot change the answer


class ExtractiveBackend:
    name = "extractive"

    def __init__(
        self,
        params: ExtractiveParams | None = None,
        scorer: LinearScorer | None = None,
        answerability: AnswerabilityModel | None = None,
    ) -> None:
        self.params = params or ExtractiveParams()
        self.scorer = scorer or LinearScorer.load()
        self.answerability = answerability or packaged_model()

    def answer(self, question: str, retriever: Retriever, top_k: int) -> Draft:
        """Quote what answers ``question``; a question that asks two things ("When and
        where...") is answered part by part, and refused if no part is answered, or if
        one part names what the corpus lacks and another names nothing of its own: that
        one means the first's ("Does httpx support HTTP/3 over QUIC, and how do I enable
        it?")."""
        chosen: list[Candidate] = []
        notes = []
        layout = MarkdownLines(retriever.store.corpus)
        parts = split_question(question)
        infos = [analyze_question(part) for part in parts]
        if len(parts) > 1 and any(not info.focus for info in infos) and any(
            resolve_focus(info, retriever) is None for info in infos
        ):
            return Draft.refusal()
        for part, info in zip(parts, infos, strict=True):
            candidates = self.candidates(part, retriever, top_k, layout)
            if not candidates or not self.scorer.answers(candidates[0]):
                continue
            picked = [c for c in self._select(info, candidates, retriever, layout)
                      if not any(_same_line(c, other) for other in chosen)]
            if info.kind in (NUMBER, MONEY) and len({_value(c) for c in picked}) > 1:
                notes.append(len(chosen))
            chosen.extend(picked)
        if not chosen:
            return Draft.refusal()
        # The question's rarer words: what marks a code line as the one asked about
        # (``local_address`` for "from one particular IP address"), not "httpx" or "client".
        keys = frozenset(term for info in infos for term in info.terms
                         if retriever.stats.idf(term) >= self.params.key_idf)
        return compose(chosen, notes, layout, keys)

    def candidates(
        self, question: str, retriever: Retriever, top_k: int,
        layout: MarkdownLines | None = None,
    ) -> list[Candidate]:
        """The best retrieved passages, judged and scored, best first (one per line).

        Two stages: every passage is scored on the judge's features (a failed check among
        them); the best ``params.reranked`` are read by the answerability model and
        scored again with its probability as one more feature; the rest are dropped.
        Only then is each line's best kept, so the model can prefer another sentence of
        a line."""
        info = resolve_focus(analyze_question(question), retriever)
        if info is None:
            return []
        vector = retriever.embed_query(info.text)
        depth = max(self.params.candidates, 3 * top_k)
        judge = Judge(
            info, retriever, WordVectors.kept(retriever.embedder),
            self.params.asked_similarity, self.params.unit_similarity,
        )
        layout = layout or MarkdownLines(retriever.store.corpus)
        found = [judge(layout.readable(p))
                 for p in retriever.search(info.text, depth, SENTENCES, vector)]
        # Whole lines compete too: a line can answer where none of its sentences alone does.
        found += [
            judge(p, whole_line=True)
            for p in retriever.search(info.text, depth // 2, CHUNKS, vector)
            if p.start_line == p.end_line
            and len(retriever.stats.line_sentences(p.source, p.start_line)) > 1
        ]
        for candidate in found:
            candidate.score = self.scorer.score(candidate.features)
        shortlist = sorted(found, key=lambda c: -c.score)[: self.params.reranked]
        best: dict[tuple[str, int], Candidate] = {}
        for candidate in self._read(question, info, shortlist):
            key = (candidate.passage.source, candidate.passage.start_line)
            if key not in best or candidate.score > best[key].score:
                best[key] = candidate
        return sorted(best.values(), key=lambda c: -c.score)

    def _read(
        self, question: str, info: QuestionInfo, shortlist: list[Candidate]
    ) -> list[Candidate]:
        """The shortlisted candidates, scored again with the answerability model's
        probability; those whose probability could not change the answer are left out
        unread (reading is most of an ask's time).

        The model reads the best first, as many at a time as it runs side by side.
        Scores rise with the probability, so a candidate unread can end anywhere between
        its score at probability 0 and at 1, and the leader ends no lower than the best
        score seen so far. A candidate whose score at 1 is below both the refusal
        threshold and that best less the keep-within margin can be neither the answer
        nor kept beside it, and is not read. A figure question reads every candidate
        that could show a differing figure, and a line with two candidates has both
        read, so the answer is exactly what reading all of them gives."""
        prune = self.params.prune and self.scorer.weights.get("answerable", 0.0) > 0
        lines = Counter((c.passage.source, c.passage.start_line) for c in shortlist)
        figures = info.kind in (NUMBER, MONEY)
        leader = max((c.score for c in shortlist), default=0.0)
        read: list[Candidate] = []
        step = max(1, self.answerability.workers if prune else len(shortlist))
        for begin in range(0, len(shortlist), step):
            bound = max(self.scorer.threshold, leader - self.scorer.keep_within)
            batch = [
                c for c in shortlist[begin : begin + step]
                if not prune
                or self.scorer.score(c.features | {"answerable": 1.0}) >= bound
                or (figures and c.rejected is None and _value(c))
                or lines[(c.passage.source, c.passage.start_line)] > 1
            ]
            probabilities = self.answerability.probabilities(
                question, [c.passage.text for c in batch])
            for candidate, probability in zip(batch, probabilities, strict=True):
                candidate.features["answerable"] = float(probability)
                candidate.score = self.scorer.score(candidate.features)
                leader = max(leader, candidate.score)
            read.extend(batch)
        return read

    def _select(
        self, info: QuestionInfo, ranked: list[Candidate], retriever: Retriever,
        layout: MarkdownLines | None = None,
    ) -> list[Candidate]:
        best = ranked[0]
        chosen = [best]
        # A figure in a code example is a value picked for the example
        # (``max_connections=10``), not a fact another line could contradict or repeat:
        # an answer from code is that code alone, and code lines are never set beside
        # another answer's figure as differing from it.
        figures = info.kind in (NUMBER, MONEY)
        if figures and layout is not None and layout.is_code(best.passage):
            return chosen
        bound = max(self.scorer.threshold, best.score - self.scorer.keep_within)
        if figures and layout is not None:
            ranked = [c for c in ranked if not layout.is_code(c.passage)]  # nor beside a figure
        # The candidates close enough to the best, less those that failed a check and
        # that the model does not vouch for.
        weighed = [c for c in takewhile(lambda c: c.score >= bound, ranked[1:])
                   if self.scorer.answers(c)]
        if weighed:
            # Embedded (where the index holds no vector of their text: Markdown's records
            # hold the heading path too) in one call: a run of a few costs little more
            # than a run of one, and ``embed_known`` keeps them for each ``_similarity``.
            retriever.text_vectors([c.passage.text for c in [best, *weighed]])
        for other in weighed:
            if len(chosen) == self.params.max_sentences:
                break
            similarity = _similarity(retriever, other, chosen)
            if figures and similarity >= self.params.same_topic:
                # Another figure for the same thing (a conflict), or the same figure
                # reported again (corroboration): either way the reader should see it.
                chosen.append(other)
                continue
            new_file = all(other.passage.source != c.passage.source for c in chosen)
            if new_file and similarity >= self.params.same_fact:
                chosen.append(other)  # the same fact reported by another file
        if figures:
            chosen.extend(self._conflicts(chosen, ranked, retriever))
        return chosen

    def _conflicts(
        self, chosen: list[Candidate], ranked: list[Candidate], retriever: Retriever
    ) -> list[Candidate]:
        """Candidates anywhere in the shortlist that give another figure for the same
        thing (72 nations where the chosen lines say more than 70 countries): a reader
        must see that the sources differ, not only the figure that scored best."""
        values = {_value(c) for c in chosen}
        found: list[Candidate] = []
        for other in ranked[1:]:
            if len(chosen) + len(found) >= self.params.max_sentences:
                break
            value = _value(other)
            if (other in chosen or not value or value in values or other.rejected is not None
                    or other.score < self.scorer.threshold
                    or other.features.get("answerable", 0.0) < self.params.conflict_model):
                continue
            if _similarity(retriever, other, chosen) >= self.params.same_topic:
                found.append(other)
                values.add(value)
        return found


def _value(candidate: Candidate) -> str:
    return "".join(words(candidate.slot.text)) if candidate.slot else ""


def _similarity(retriever: Retriever, candidate: Candidate, chosen: list[Candidate]) -> float:
    vectors = retriever.text_vectors([candidate.passage.text, *(c.passage.text for c in chosen)])
    return float(np.max(vectors[1:] @ vectors[0]))


def _same_line(a: Candidate, b: Candidate) -> bool:
    return (a.passage.source, a.passage.start_line) == (b.passage.source, b.passage.start_line)
