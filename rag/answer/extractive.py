"""The default backend: answers by quoting the retrieved sentences (or whole lines) that
answer the question, each with its line; refuses when none does. Offline, deterministic.

A sentence answers a question when
1. it is about what the question is about: close in meaning (MiniLM cosine) plus its
   share of the question's rarer words (IDF-weighted);
2. it names the question's names and codes, or they stand in the lines just before it
   (the "Vostok-2022" of "the exercises"), with at most one left to the document; the
   question's grammatical subject must be in the sentence when a figure is asked
   ("did *Algeria* buy"); quoted phrases must be there;
3. it speaks of what is asked: one of the question's other content words, or a word
   close to one ("participate" for "involved"; nothing for "killed");
4. it holds an answer of the asked kind that the question does not already hold: a
   number for "how many", a sum for "how much", a date for "when", a name for "who"; a
   number must count the thing asked about ("50,000 soldiers" answers "troops") and sit
   in the clause of the question's subject (India's 450 does not answer for Algeria).
The best such sentence is quoted, with sentences of other files that report the same
fact; when sentences give different figures the answer says so. The thresholds were
calibrated on ``evals/dev.jsonl`` (``benchmarks/calibrate.py``), never on the eval set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rag.answer.base import Draft, DraftCitation
from rag.answer.lexicon import WordVectors
from rag.answer.question import (
    DATE,
    DURATION,
    MONEY,
    NAME,
    NUMBER,
    QuestionInfo,
    analyze_question,
    canonical,
    term_set,
)
from rag.answer.slots import Slot, clauses, find_slots, unit_words
from rag.chunking import sentence_spans
from rag.retrieval import Retriever
from rag.text import STOPWORDS, words
from rag.types import Passage

__all__ = ["CONFLICT_NOTE", "ExtractiveBackend", "ExtractiveParams"]

CONFLICT_NOTE = "The sources differ:"
_TYPED = (NUMBER, MONEY, DATE, DURATION, NAME)
_VALUED = (NUMBER, MONEY, DATE, DURATION)
_TITLES = {"minister", "president", "leader", "spokesperson", "spokesman", "head", "chief",
           "lawmaker", "chair", "secretary-general", "general", "director", "official",
           "prime", "king", "queen", "mr", "mrs", "ms", "dr", "senator", "governor"}
_NOT_PERSON = {"forum", "centre", "center", "congress", "agency", "institute", "exhibition",
               "council", "committee", "ministry", "union", "republic", "republics", "sea",
               "times", "news", "energy", "international", "economic", "peace", "research",
               "act", "states", "party", "army", "navy", "forces", "group", "bank", "company",
               "university", "court", "media", "station", "plant", "war", "day", "north",
               "south", "east", "west"}
_PRONOUN = re.compile(r"\b(he|she|He|She)\b")


@dataclass(frozen=True)
class ExtractiveParams:
    candidates: int = 30  # sentences retrieved per question
    lexical_weight: float = 0.5
    soft_weight: float = 1.0  # IDF-weighted near-word coverage (paraphrases)
    threshold: float = 0.55  # the least relevance of an answering sentence
    asked_similarity: float = 0.4  # a word this close to an asked word counts as it
    unit_similarity: float = 0.45  # least cosine between a number's unit and the asked noun
    slot_bonus: float = 0.1  # for an answer next to the asked noun or after a title
    keep_within: float = 0.12  # further sentences kept if this close to the best
    same_fact: float = 0.8  # cosine above which two sentences say the same thing
    same_topic: float = 0.5  # cosine above which two figures answer the same question
    max_sentences: int = 3


@dataclass
class _Candidate:
    passage: Passage
    relevance: float
    slot: Slot | None  # the answer the sentence holds, for typed questions
    antecedent: Passage | None = None  # the earlier sentence that names "he" or "she"


class ExtractiveBackend:
    name = "extractive"

    def __init__(self, params: ExtractiveParams | None = None) -> None:
        self.params = params or ExtractiveParams()
        self._lexicons: dict[int, WordVectors] = {}

    def answer(self, question: str, retriever: Retriever, top_k: int) -> Draft:
        info = _resolve_focus(analyze_question(question), retriever)
        if info is None:
            return Draft.refusal()
        vector = retriever.embed_query(info.text)
        depth = max(self.params.candidates, 3 * top_k)
        passages = retriever.search(info.text, depth, "sentences", vector)
        # Whole lines compete too: a line can answer where none of its sentences alone does.
        passages += [
            p for p in retriever.search(info.text, depth // 2, "chunks", vector)
            if p.start_line == p.end_line
            and len(retriever.line_sentences(p.source, p.start_line)) > 1
        ]
        lexicon = self._lexicon(retriever)
        candidates = _best_per_line(
            c for p in passages
            if isinstance(c := self._judge(info, p, retriever, lexicon), _Candidate)
        )
        if not candidates:
            return Draft.refusal()
        return _compose(self._select(info, candidates, retriever), info)

    def _lexicon(self, retriever: Retriever) -> WordVectors:
        key = id(retriever.embedder)
        if key not in self._lexicons:
            self._lexicons[key] = WordVectors(retriever.embedder)
        return self._lexicons[key]

    def _judge(
        self, info: QuestionInfo, passage: Passage, retriever: Retriever, lexicon: WordVectors
    ) -> _Candidate | str:
        """The passage as a candidate answer, or why it is not one."""
        p = self.params
        text_words = words(passage.text)
        have = term_set(text_words)
        dense = passage.dense_score or 0.0
        relevance = dense + p.lexical_weight * retriever.coverage(info.terms, have)
        if p.soft_weight:
            content = [w for w in text_words if w not in STOPWORDS and not w[0].isdigit()]
            relevance += p.soft_weight * lexicon.soft_coverage(
                _weights(info, retriever), content
            )
        if relevance < p.threshold:
            return f"relevance {relevance:.2f} below {p.threshold}"
        if not self._names_present(info, passage, have, retriever):
            return "does not name what the question names"
        if any(not _contains(passage.text, q) for q in info.quoted):
            return "lacks the quoted phrase"
        if any(_listed_with_others(passage.text, term) for term in info.exclusive):
            return "names the subject only among others"
        if info.kind not in _TYPED:
            return _Candidate(passage, relevance, None)
        if info.kind in _VALUED:
            if not set(info.subject) <= have:
                return "lacks the question's subject"
            if not self._speaks_of_asked(info, text_words, have, retriever, lexicon):
                return "says nothing of what is asked"
        slots = find_slots(passage.text, info.kind, frozenset(info.focus))
        if info.kind == NAME:
            slots = _names_fitting(passage.text, slots, info)
            if not slots and info.person and _PRONOUN.search(passage.text):
                found = _antecedent(passage, retriever, info)
                if found is not None:
                    return _Candidate(passage, relevance, found[1], found[0])
        else:
            named = set(info.subject or info.focus) & have
            slots = _in_subject_clauses(passage.text, slots, named)
            if info.target_phrase:
                slots = [s for s in slots if self._counts(passage.text, s, info, lexicon)]
        if not slots:
            return f"holds no {info.kind} for the question"
        if _well_placed(passage.text, slots[0], info):
            relevance += p.slot_bonus
        return _Candidate(passage, relevance, slots[0])

    def _speaks_of_asked(
        self,
        info: QuestionInfo,
        text_words: list[str],
        have: set[str],
        retriever: Retriever,
        lexicon: WordVectors,
    ) -> bool:
        """Rule 3: "How many soldiers were *killed*" is not answered by soldiers who
        *participate*. Only for figures and dates, where a wrong verb gives a wrong fact."""
        asked = [w for w in info.asked if retriever.resolve(canonical(w)) is not None]
        if not asked or {canonical(w) for w in asked} & have:
            return True
        counted = {canonical(w) for w in info.target_phrase}
        content = [
            w for w in text_words
            if w not in STOPWORDS and not w[0].isdigit() and canonical(w) not in counted
        ]
        return lexicon.best(asked, content) >= self.params.asked_similarity

    def _names_present(
        self, info: QuestionInfo, passage: Passage, have: set[str], retriever: Retriever
    ) -> bool:
        """Rule 2 of the module docstring."""
        # Numbers are left out: a question's wrong figure is a premise to correct.
        missing = {t for t in info.focus if not t.replace(".", "").isdigit()} - have
        if not missing:
            return True
        if not missing <= retriever.document_terms(passage.source):
            return False
        nearby = retriever.context_terms(passage.source, passage.start_line)
        return len(missing - nearby) <= 1

    def _counts(self, text: str, slot: Slot, info: QuestionInfo, lexicon: WordVectors) -> bool:
        """Whether a number counts the asked thing ("50,000 soldiers" for "troops")."""
        units = [u for u in unit_words(text, slot) if u not in STOPWORDS]
        if not units or units[0] == "times" or slot.text.lower() in {"once", "twice"}:
            return True
        wanted = [w for w in info.target_phrase if not w[0].isdigit()]
        if {canonical(u) for u in units} & {canonical(w) for w in wanted}:
            return True
        return lexicon.best(wanted, units) >= self.params.unit_similarity

    def _select(
        self, info: QuestionInfo, candidates: list[_Candidate], retriever: Retriever
    ) -> list[_Candidate]:
        ranked = sorted(candidates, key=lambda c: -c.relevance)
        best = ranked[0]
        chosen = [best]
        for other in ranked[1:]:
            if len(chosen) == self.params.max_sentences:
                break
            if other.relevance < best.relevance - self.params.keep_within:
                break
            similarity = _similarity(retriever, other, chosen)
            if info.kind in (NUMBER, MONEY) and similarity >= self.params.same_topic:
                # Another figure for the same thing (a conflict), or the same figure
                # reported again (corroboration): either way the reader should see it.
                chosen.append(other)
                continue
            new_file = all(other.passage.source != c.passage.source for c in chosen)
            if new_file and similarity >= self.params.same_fact:
                chosen.append(other)  # the same fact reported by another file
        return chosen


def _resolve_focus(info: QuestionInfo, retriever: Retriever) -> QuestionInfo | None:
    """Focus terms in the corpus's own spelling; None if a name is absent from the corpus
    (numbers excepted: a wrong number is a premise to correct, not a reason to refuse)."""
    mapping = {}
    for term in info.focus:
        known = retriever.resolve(term)
        if known is None and not term.replace(".", "").isdigit():
            return None
        mapping[term] = known
    focus = tuple(m for t in info.focus if (m := mapping[t]) is not None)
    return QuestionInfo(
        text=info.text,
        kind=info.kind,
        target=info.target,
        target_word=info.target_word,
        target_phrase=info.target_phrase,
        quoted=info.quoted,
        asked=info.asked,
        focus=focus,
        subject=tuple(m for t in info.subject if (m := mapping.get(t, t)) is not None),
        exclusive=tuple(m for t in info.exclusive if (m := mapping.get(t, t)) is not None),
        person=info.person,
        terms=tuple(m for t in info.terms if (m := mapping.get(t, t)) is not None),
    )


def _weights(info: QuestionInfo, retriever: Retriever) -> dict[str, float]:
    """The question's content words, as written, weighted by the IDF of their stems."""
    out: dict[str, float] = {}
    for word in words(info.text):
        if word in STOPWORDS or word[0].isdigit():
            continue
        out[word] = retriever.idf(canonical(word))
    return out


def _contains(text: str, phrase: str) -> bool:
    wanted = [canonical(w) for w in words(phrase) if w not in STOPWORDS]
    have = {canonical(w) for w in words(text)}
    return all(w in have for w in wanted)


def _listed_with_others(sentence: str, term: str) -> bool:
    """Whether ``term`` is one name in a list ("India, China and Egypt")."""
    for match in re.finditer(r"[A-Z][\w’'-]*(?:(?:,\s*|\s+and\s+)[A-Z][\w’'-]*)+", sentence):
        if term in {canonical(w) for w in words(match.group(0))}:
            return True
    return False


def _in_subject_clauses(sentence: str, slots: list[Slot], named: set[str]) -> list[Slot]:
    """Slots in a clause that names one of the question's names, when there is one."""
    names = {t for t in named if not t.replace(".", "").isdigit()}
    spans = clauses(sentence)
    if not names or len(spans) < 2:
        return slots
    subject = [
        (a, b) for a, b in spans if {canonical(w) for w in words(sentence[a:b])} & names
    ]
    return [s for s in slots if any(a <= s.start < b for a, b in subject)]


def _names_fitting(sentence: str, slots: list[Slot], info: QuestionInfo) -> list[Slot]:
    """Name slots that fit: people when a person is asked, near the asked noun if present."""
    if info.person:
        slots = [s for s in slots if _person_like(sentence, s)]
    near = [s for s in slots if _near_target(sentence, s, info)]
    return near if near else ([] if _target_positions(sentence, info) else slots)


def _target_positions(sentence: str, info: QuestionInfo) -> list[int]:
    if not info.target:
        return []
    return [
        m.start() for m in re.finditer(r"[\w’'-]+", sentence)
        if canonical(m.group(0)) == info.target
    ]


def _near_target(sentence: str, slot: Slot, info: QuestionInfo) -> bool:
    return any(abs(slot.start - at) <= 60 for at in _target_positions(sentence, info))


def _well_placed(sentence: str, slot: Slot, info: QuestionInfo) -> bool:
    before = words(sentence[max(0, slot.start - 30) : slot.start])
    return _near_target(sentence, slot, info) or (bool(before) and before[-1] in _TITLES)


def _person_like(sentence: str, slot: Slot) -> bool:
    parts = slot.text.split()
    if any(part.lower().strip("’'") in _NOT_PERSON for part in parts):
        return False
    if len(parts) >= 2:
        return True
    before = words(sentence[max(0, slot.start - 30) : slot.start])
    return bool(before) and before[-1] in _TITLES


def _antecedent(
    passage: Passage, retriever: Retriever, info: QuestionInfo
) -> tuple[Passage, Slot] | None:
    """The nearest earlier sentence (two lines back at most) naming a person."""
    for line in retriever.previous_lines(passage.source, passage.start_line, 2):
        for text in reversed(retriever.line_sentences(passage.source, line)):
            slots = find_slots(text, NAME, frozenset(info.focus))
            slots = [s for s in slots if _person_like(text, s)]
            if slots:
                earlier = Passage(source=passage.source, start_line=line, end_line=line,
                                  text=text, score=0.0)
                return earlier, slots[0]
    return None


def _best_per_line(candidates: Iterable[_Candidate]) -> list[_Candidate]:
    """One candidate per cited line: the most relevant of its sentences or the whole line."""
    best: dict[tuple[str, int], _Candidate] = {}
    for candidate in candidates:
        key = (candidate.passage.source, candidate.passage.start_line)
        if key not in best or candidate.relevance > best[key].relevance:
            best[key] = candidate
    return list(best.values())


def _value(candidate: _Candidate) -> str:
    return "".join(words(candidate.slot.text)) if candidate.slot else ""


def _similarity(retriever: Retriever, candidate: _Candidate, chosen: list[_Candidate]) -> float:
    vectors = retriever.embedder.embed(
        [candidate.passage.text, *(c.passage.text for c in chosen)]
    )
    return float(np.max(vectors[1:] @ vectors[0]))


def _compose(chosen: list[_Candidate], info: QuestionInfo) -> Draft:
    citations: list[DraftCitation] = []
    parts: list[str] = []
    for candidate in chosen:
        for p in filter(None, (candidate.antecedent, candidate.passage)):
            citations.append(DraftCitation(p.source, p.start_line, p.end_line, (p.text,)))
            # Every sentence carries its marker, also when a whole line is quoted.
            parts.extend(f"{p.text[a:b]} [{len(citations)}]" for a, b in sentence_spans(p.text))
    if info.kind in (NUMBER, MONEY) and len({_value(c) for c in chosen}) > 1:
        parts.insert(0, CONFLICT_NOTE)
    return Draft(text=" ".join(parts), citations=citations)
