"""The default backend: answers by quoting the retrieved sentences (or whole lines) that
answer the question, each with its line; refuses when none does. Offline, deterministic.

Each retrieved sentence, and each whole line of several sentences, goes through the
judge (``judge.py``): checks note what looks unable to answer (a figure about another
country, a sentence without the asked kind of answer) and features describe the fit. A
logistic scorer (``scorer.py``, fitted by ``benchmarks/calibrate.py`` on hand-written
questions) ranks them; the best are read by the answerability model
(``answerability.py``) and scored again with its probability, the probability that the
passage answers. When the best candidate does not pass the scorer's refusal rules
(``LinearScorer.answers``: its calibrated threshold, the model's say over a failed check,
a figure question without a figure) the backend refuses. Otherwise it quotes the best
sentence, with sentences of other files that report the same fact; when they give
different figures the answer says so.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from itertools import takewhile

import numpy as np

from rag.answer.answerability import AnswerabilityModel, packaged_model
from rag.answer.base import Draft, DraftCitation
from rag.answer.judge import Candidate, Judge
from rag.answer.lexicon import WordVectors
from rag.answer.scorer import LinearScorer
from rag.answer.vocabulary import analyze_question, canonical, term_set
from rag.language.figures import MONEY, NUMBER
from rag.language.questions import QuestionInfo, split_question
from rag.language.sentences import sentence_spans
from rag.language.words import words
from rag.markdown_lines import MarkdownLines, standalone_code
from rag.retrieval import Retriever
from rag.verify.markers import literal_brackets

__all__ = ["CONFLICT_NOTE", "ExtractiveBackend", "ExtractiveParams"]

CONFLICT_NOTE = "The sources differ:"


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
            _resolve_focus(info, retriever) is None for info in infos
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
                         if retriever.idf(term) >= self.params.key_idf)
        return _compose(chosen, notes, layout, keys)

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
        info = _resolve_focus(analyze_question(question), retriever)
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
                 for p in retriever.search(info.text, depth, "sentences", vector)]
        # Whole lines compete too: a line can answer where none of its sentences alone does.
        found += [
            judge(p, whole_line=True)
            for p in retriever.search(info.text, depth // 2, "chunks", vector)
            if p.start_line == p.end_line
            and len(retriever.line_sentences(p.source, p.start_line)) > 1
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


def _resolve_focus(info: QuestionInfo, retriever: Retriever) -> QuestionInfo | None:
    """Focus terms in the corpus's own spelling; None if a name is absent from the corpus
    (numbers excepted: a wrong number is a premise to correct, not a reason to refuse),
    or a constant's name (``_CONSTANT``) is nowhere in its text as written."""
    mapping: dict[str, tuple[str, ...]] = {}
    constants = {canonical(name): name for name in _CONSTANT.findall(info.text)}
    # Identifiers as written: their parts get their own forms ("ssl_cert_file" is formed
    # whole as "ssl_cert_fil", whose last part no page has; "file" is formed "file").
    written = {canonical(token): token for token in re.findall(r"[\w.]*\w", info.text)
               if re.search(r"[._]", token.strip("._"))}
    for term in info.focus:
        known = retriever.resolve(term)
        if known is not None:
            mapping[term] = (known,)
            continue
        if term.replace(".", "").isdigit():
            mapping[term] = ()
            continue
        if term in constants and not retriever.mentions(constants[term]):
            return None
        parts = ([canonical(part) for part in _compound_parts(written[term])]
                 if term in written else _compound_parts(term))
        found = [retriever.resolve(part) for part in parts]
        if not parts or not all(found):
            return None
        mapping[term] = tuple(form for form in found if form)

    def resolved(terms: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(form for t in terms for form in mapping.get(t, (t,)))

    return replace(info, focus=resolved(info.focus), subject=resolved(info.subject),
                   exclusive=resolved(info.exclusive), terms=resolved(info.terms))


# A constant's or an environment variable's name, written as one (HTTPX_LOG_LEVEL): a name
# the documents have as it is written or not at all, unlike a code identifier, whose parts
# a page may name apart ("the elapsed property of a response" for ``response.elapsed``).
_CONSTANT = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def _compound_parts(term: str) -> list[str]:
    """The words of a code identifier (``response.elapsed``, ``http_proxy``) or of a
    measure (``10-second``), each of which the corpus may have on its own; none for
    other hyphenated names (``t-90``, ``army-2022``: a name whole or not at all)."""
    if re.search(r"[._]", term.strip("._")):
        return [part for part in re.split(r"[._]+", term) if part]
    measure = re.fullmatch(r"(\d+)-([a-z]+)", term)
    return list(measure.groups()) if measure else []


def _value(candidate: Candidate) -> str:
    return "".join(words(candidate.slot.text)) if candidate.slot else ""


def _similarity(retriever: Retriever, candidate: Candidate, chosen: list[Candidate]) -> float:
    vectors = retriever.text_vectors([candidate.passage.text, *(c.passage.text for c in chosen)])
    return float(np.max(vectors[1:] @ vectors[0]))


def _same_line(a: Candidate, b: Candidate) -> bool:
    return (a.passage.source, a.passage.start_line) == (b.passage.source, b.passage.start_line)


def _compose(
    chosen: list[Candidate], conflicts: list[int], layout: MarkdownLines,
    keys: frozenset[str] = frozenset(),
) -> Draft:
    """The quoted sentences with their markers; ``CONFLICT_NOTE`` before the candidates
    at the positions in ``conflicts`` (where differing figures begin). In Markdown, a
    code line is quoted with the lines of its (short) block that speak of the question
    (``_quote_code``), and prose that introduces a code block ("Use a transport:",
    "For example...") with those of that block."""
    citations: list[DraftCitation] = []
    parts: list[str] = []
    for position, candidate in enumerate(chosen):
        if position in conflicts:
            parts.append(CONFLICT_NOTE)
        for p in filter(None, (candidate.antecedent, candidate.passage)):
            spans = sentence_spans(p.text)
            if p is candidate.passage and candidate.slot is not None and len(spans) > 1:
                # A whole line matched, but the answer is one of its sentences: quote that.
                at = candidate.slot.start
                spans = [(a, b) for a, b in spans if a <= at < b] or spans
            row = layout.table_row(p.source, p.start_line)
            if row is not None:  # the cells, named by the header row it also cites
                header, cells = row
                citations.append(DraftCitation(p.source, header, header))
                citations.append(DraftCitation(p.source, p.start_line, p.start_line))
                parts.append(f"{literal_brackets(cells)}. [{len(citations) - 1}]"
                             f"[{len(citations)}]")
                continue
            block = layout.around(p.source, p.start_line)
            if block is not None:
                _quote_code(p.source, block, layout, citations, parts, keys, p.start_line)
                continue
            quoted = tuple(p.text[a:b] for a, b in spans)
            citations.append(DraftCitation(p.source, p.start_line, p.end_line, quoted))
            # Every sentence carries its marker, also when a whole line is quoted.
            parts.extend(f"{literal_brackets(sentence)} [{len(citations)}]"
                         for sentence in quoted)
            block = layout.after(p.source, p.end_line)
            if block is not None:
                _quote_code(p.source, block, layout, citations, parts, keys)
    return Draft(text=" ".join(parts), citations=citations)


def _quote_code(
    source: str, block: tuple[int, int], layout: MarkdownLines,
    citations: list[DraftCitation], parts: list[str],
    keys: frozenset[str] = frozenset(), matched: int | None = None,
) -> None:
    """The lines of a code block that answer, cited by their own line numbers: from the
    first to the last of the line that matched (``matched``) and those holding one of
    the question's rarer words (``keys``), widened to whole statements and to where the
    names they use are set (``standalone_code``). An ``import httpx`` or the call printing
    a result is not what was asked, and citing it points the reader at lines that do not
    say the answer. The whole block when no line holds a key word, or when prose before
    the block matched (it introduces the block as a whole)."""
    if any(c.source == source and c.start_line <= block[1] and block[0] <= c.end_line
           for c in citations):
        return  # quoted already
    lines = layout.lines(source)
    keyed = [n for n in range(block[0], block[1] + 1)
             if lines[n - 1].strip() and term_set(words(lines[n - 1])) & keys]
    first, last = block
    if keyed and matched is not None:
        kept = sorted({*keyed, matched})
        first, last = standalone_code(lines[: block[1]], block[0], kept[0], kept[-1])
    quoted = tuple(line.strip() for line in lines[first - 1 : last] if line.strip())
    citations.append(DraftCitation(source, first, last, quoted))
    parts.append(f"{literal_brackets(chr(10).join(quoted))} [{len(citations)}]")
