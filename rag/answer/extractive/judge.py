"""Whether a retrieved passage can answer a question, and how well it fits.

Two layers. Checks say why a passage looks unable to answer (the reason is kept on the
candidate, for the eval harness and debugging):
* it must name the question's names, or have them in the lines just before it, with at
  most one left to elsewhere in its document (the "Vostok-2022" of "the exercises");
* it must contain any phrase the question quotes, and not list an "X alone" among others;
* for a figure or a date: it must name the question's grammatical subject ("did
  *Algeria* buy"), speak of what is asked ("participate" is near "involved", nothing is
  near "killed"), and hold a figure or date that the question does not already hold,
  in the clause of the subject (India's 450 does not answer for Algeria), counting the
  asked thing ("50,000 soldiers" for "troops");
* for a name: hold a name the question does not (a person's when a person is asked);
* for "which version" or "which release": hold a version number ("3.9+", "1.0").
Features then describe how well the passage fits, a failed check among them
(``off_subject``, ``off_kind``): a check is evidence, not a verdict, because on questions
nobody tuned the checks on they threw away right answers (a paraphrase that names its
subject differently, a reason given without a causal word), which the answerability
model reads correctly. ``scorer.py`` weighs it all.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.answer.lexicon import WordVectors
from rag.answer.vocabulary import NEWS, canonical, term_set
from rag.language.figures import NAME, REASON, TYPED, VALUED, Slot, find_slots
from rag.language.placement import (
    after_locative,
    counts_asked,
    gives_reason,
    in_subject_clauses,
    listed_with_others,
    names_fitting,
    person_like,
    well_placed,
)
from rag.language.questions import QuestionInfo
from rag.language.words import STOPWORDS, words
from rag.retrieval import Retriever
from rag.types import Passage

__all__ = ["FEATURES", "NO_FIGURE", "Candidate", "Judge"]

FEATURES = (
    "dense", "coverage", "asked_exact", "asked_near", "asked_worst", "asked_unknown",
    "names_here", "typed", "well_placed", "headline", "whole_line", "length",
    "off_subject", "off_kind",  # a check failed: the subject's names, the asked kind
    "answerable",  # set by the backend: the answerability model's probability
)
# Rejections for what the passage is about; the others are for what kind of answer it holds.
OFF_SUBJECT = frozenset({
    "does not name what the question names", "lacks the quoted phrase",
    "names the subject only among others", "lacks the question's subject",
})
# Rejections that no model probability overrides: a question asking for a figure or a
# date is not answered by a sentence that holds none for it, whatever else the sentence
# says. The model reads "India has purchased more than 450 and Algeria has also bought
# T-90 tanks" as answering how many Algeria bought (0.83); the clause check does not.
_NO_SLOT = "holds no {} for the question"  # the rejection of a sentence without the asked kind
NO_VERSION = _NO_SLOT.format("version")
NO_FIGURE = frozenset(_NO_SLOT.format(kind) for kind in VALUED) | {NO_VERSION}
# A version number: "1.0", "3.9+", "v2", "0.27.x"; not a protocol's ("HTTP/1.1").
_VERSION = re.compile(r"(?<![\w./])v?\d+(?:\.\d+)+\+?(?![\w])|\bv\d+\b|\b\d+\.x\b")
_NEAR_WORD = 0.45  # word similarity below which two words are taken as unrelated
_PRONOUN = re.compile(r"\b(he|she|He|She)\b")


@dataclass
class Candidate:
    passage: Passage
    features: dict[str, float]
    slot: Slot | None = None  # the answer the passage holds, for typed questions
    antecedent: Passage | None = None  # the earlier sentence that names "he" or "she"
    score: float = 0.0
    whole_line: bool = False
    rejected: str | None = None  # the check it failed, if any


class Judge:
    """Checks and describes passages for one question."""

    def __init__(
        self,
        info: QuestionInfo,
        retriever: Retriever,
        lexicon: WordVectors,
        asked_similarity: float = 0.4,
        unit_similarity: float = 0.45,
    ) -> None:
        self.info = info
        self.retriever = retriever
        self.lexicon = lexicon
        self.asked_similarity = asked_similarity
        self.unit_similarity = unit_similarity
        self._asked = [w for w in info.asked if retriever.stats.resolve(canonical(w)) is not None]
        # Every asked word, also those the corpus lacks (they get the highest IDF).
        self._asked_weight = {w: retriever.stats.idf(canonical(w)) for w in info.asked}
        unknown = [w for w in info.asked if w not in self._asked]
        self._unknown = len(unknown) / len(info.asked) if info.asked else 0.0

    def __call__(self, passage: Passage, whole_line: bool = False) -> Candidate:
        """The passage as a candidate answer, with ``rejected`` saying why it cannot be
        one if a check fails (the scorer sees that as a feature, not a verdict)."""
        info = self.info
        text_words = words(passage.text)
        have = term_set(text_words)
        names = {t for t in info.focus if not t.replace(".", "").isdigit()}
        rejected = self._check(passage, have, names)
        slot, antecedent = None, None
        if rejected is None and info.kind in TYPED:
            found = self._slot(passage, text_words, have)
            if isinstance(found, str):
                rejected = found
            else:
                slot, antecedent = found
        content = [w for w in text_words if w not in STOPWORDS and not w[0].isdigit()]
        weights = self._asked_weight
        near, worst = self._alignment(content, have)
        features = {
            "dense": passage.dense_score or 0.0,
            "coverage": self.retriever.stats.coverage(info.terms, have),
            "asked_exact": _share(weights, {w for w in weights if canonical(w) in have})
            if weights else 1.0,
            "asked_near": near,
            "asked_worst": worst,
            "asked_unknown": self._unknown,
            "names_here": len(names & have) / len(names) if names else 1.0,
            "typed": 1.0 if slot is not None else 0.0,
            "well_placed": 1.0 if slot is not None and well_placed(passage.text, slot, info, NEWS)
            else 0.0,
            "headline": 1.0 if passage.start_line == 1 else 0.0,
            "whole_line": 1.0 if whole_line else 0.0,
            "length": math.log1p(len(content)),
            "off_subject": 1.0 if rejected in OFF_SUBJECT else 0.0,
            "off_kind": 1.0 if rejected is not None and rejected not in OFF_SUBJECT else 0.0,
        }
        return Candidate(passage, features, slot, antecedent, whole_line=whole_line,
                         rejected=rejected)

    def _check(self, passage: Passage, have: set[str], names: set[str]) -> str | None:
        """Why the passage cannot answer for what it names or lacks, or None."""
        info = self.info
        if not self._names_present(names - have, passage):
            return "does not name what the question names"
        if any(not _contains(passage.text, q) for q in info.quoted):
            return "lacks the quoted phrase"
        if any(listed_with_others(passage.text, term, NEWS) for term in info.exclusive):
            return "names the subject only among others"
        if info.kind in VALUED and not self._subject_present(passage, have):
            return "lacks the question's subject"
        if info.kind == REASON and not gives_reason(passage.text):
            return "gives no reason"
        if info.version and not _VERSION.search(passage.text):
            return NO_VERSION
        return None

    def _alignment(self, content: list[str], have: set[str]) -> tuple[float, float]:
        """How well the sentence covers the asked words: the IDF-weighted mean of each
        word's best similarity (1 for the word itself), and the worst single word."""
        weights = self._asked_weight
        if not weights:
            return 1.0, 1.0
        best = {word: 1.0 for word in weights if canonical(word) in have}
        unsaid = [word for word in weights if word not in best]
        for word, near in zip(unsaid, self.lexicon.best_each(unsaid, content), strict=True):
            best[word] = near if near >= _NEAR_WORD else 0.0
        total = sum(weights.values())
        mean = sum(weights[w] * best[w] for w in weights) / total if total else 0.0
        return mean, min(best.values())

    def _names_present(self, missing: set[str], passage: Passage) -> bool:
        if not missing:
            return True
        if not missing <= self.retriever.stats.document_terms(passage.source):
            return False
        nearby = self.retriever.stats.context_terms(passage.source, passage.start_line)
        return len(missing - nearby) <= 1

    def _slot(
        self, passage: Passage, text_words: list[str], have: set[str]
    ) -> tuple[Slot, Passage | None] | str:
        info = self.info
        if not self._speaks_of_asked(text_words, have):
            return "says nothing of what is asked"
        slots = find_slots(passage.text, info.kind, frozenset(info.focus), NEWS)
        if info.kind == NAME:
            slots = names_fitting(passage.text, slots, info, NEWS)
            if info.place:
                slots = [s for s in slots if after_locative(passage.text, s)]
            if not slots and info.person and _PRONOUN.search(passage.text):
                found = _antecedent(passage, self.retriever, info)
                if found is not None:
                    return found[1], found[0]
        else:
            named = set(info.subject or info.focus) & have
            slots = in_subject_clauses(passage.text, slots, named, NEWS)
            if info.target_phrase:
                slots = [s for s in slots if counts_asked(
                    passage.text, s, info.target_phrase, self.lexicon.best,
                    self.unit_similarity, NEWS,
                )]
                # The asked thing's own figure before one that counts a thing near it:
                # "60 warships", not "5,000 units of military equipment", for warships.
                slots.sort(key=lambda s: not counts_asked(
                    passage.text, s, info.target_phrase, vocab=NEWS))
        if not slots:
            return _NO_SLOT.format(info.kind)
        return slots[0], None

    def _subject_present(self, passage: Passage, have: set[str]) -> bool:
        """The question's grammatical subject is named in the sentence, or stands in the
        line before when the sentence says "he" or "she"."""
        subject = set(self.info.subject)
        if subject <= have:
            return True
        if not _PRONOUN.search(passage.text):
            return False
        before = self.retriever.stats.previous_lines(passage.source, passage.start_line, 1)
        earlier = self.retriever.stats.context_terms(passage.source, before[0]) if before else set()
        return subject <= have | earlier

    def _speaks_of_asked(self, text_words: list[str], have: set[str]) -> bool:
        """"How many soldiers were *killed*" is not answered by soldiers who
        *participate*, nor "Which company *makes* the T-90" by a sentence on who bought it:
        one asked word, or a word at least ``asked_similarity`` close to one, must be
        there. Checked where a wrong verb gives a wrong fact: figures, dates, names."""
        if self.info.kind not in TYPED or not self._asked:
            return True
        if {canonical(w) for w in self._asked} & have:
            return True
        counted = {canonical(w) for w in self.info.target_phrase}
        content = [
            w for w in text_words
            if w not in STOPWORDS and not w[0].isdigit() and canonical(w) not in counted
        ]
        return self.lexicon.best(self._asked, content) >= self.asked_similarity



def _share(weights: dict[str, float], found: set[str]) -> float:
    total = sum(weights.values())
    return sum(weights[w] for w in found) / total if total else 0.0


def _contains(text: str, phrase: str) -> bool:
    wanted = [canonical(w) for w in words(phrase) if w not in STOPWORDS]
    have = term_set(words(text))
    return all(w in have for w in wanted)


def _antecedent(
    passage: Passage, retriever: Retriever, info: QuestionInfo
) -> tuple[Passage, Slot] | None:
    """The nearest earlier sentence (two lines back at most) naming a person."""
    for line in retriever.stats.previous_lines(passage.source, passage.start_line, 2):
        for text in reversed(retriever.stats.line_sentences(passage.source, line)):
            slots = [
                s for s in find_slots(text, NAME, frozenset(info.focus), NEWS)
                if person_like(text, s)
            ]
            if slots:
                earlier = Passage(source=passage.source, start_line=line, end_line=line,
                                  text=text, score=0.0)
                return earlier, slots[0]
    return None
