"""Whether a sentence answers the question asked, not only says something true.

"What does a ferry ticket cost?" is not answered by "The fleet has 12 ferries", nor "How
many T-90 tanks did Algeria buy?" by "Algeria has also bought T-90 tanks", however well
their lines support them. A sentence answers when, for some part of the question
(``split_question``):
* its cited lines (or the sentence) name what the question names, bar one name that
  other lines of the same files name (a photo caption need not repeat "Army-2022"), and
  any year the question gives;
* a question asking for a figure, a date, a name holds one of that kind, which the
  question does not already hold; and a figure or date stands in a cited clause of the
  question's subject, counting the asked thing ("how many *visitors*" is not answered by
  "70 *countries*");
* the cited lines, or other lines of their files, speak of at least ``MIN_ASKED`` of the
  other words the question asks about, the qualifiers of a count among them ("how many
  ferries run at night *in winter*"), each itself or a word near it (``similar``: word
  vectors where the caller has them);
* a "why" question gets a sentence or lines that give a reason.
The same checks the extractive backend scores its candidates with (``rag.language``),
here as verdicts, in the base vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.language.figures import NAME, REASON, TYPED, VALUED, Slot, find_slots
from rag.language.placement import (
    Similarity,
    counts_asked,
    exact_similarity,
    gives_reason,
    in_subject_clauses,
    names_fitting,
)
from rag.language.questions import QuestionInfo, analyze_question, split_question
from rag.language.sentences import sentence_spans
from rag.language.words import BASE, STOPWORDS, number_form, words

__all__ = ["MIN_ASKED", "NEAR_WORD", "NO_KIND", "answers_question"]

NEAR_WORD = 0.45  # least similarity for a word to stand for an asked word
MIN_ASKED = 0.75  # least share of the asked words the lines must speak of
_YEAR = re.compile(r"(?:1[5-9]|20)\d\d")
NO_KIND = "holds no {} for the question"


def answers_question(
    question: str,
    sentence: str,
    quotes: list[str],
    context: Sequence[str] = (),
    similar: Similarity = exact_similarity,
    near: float = NEAR_WORD,
) -> list[str]:
    """Why ``sentence``, citing ``quotes``, does not answer ``question``; [] when it does
    (for at least one part of a question that asks two things). ``context``: other lines
    of the cited files, where a name or an asked word may stand instead."""
    first: list[str] | None = None
    for part in split_question(question):
        problems = _problems(analyze_question(part), sentence, quotes, context, similar, near)
        if not problems:
            return []
        first = first or problems
    return first or []


def _problems(
    info: QuestionInfo, sentence: str, quotes: list[str], context: Sequence[str],
    similar: Similarity, near: float,
) -> list[str]:
    evidence = " \n ".join([sentence, *quotes])
    have = BASE.forms(words(evidence))
    around = BASE.forms(words(" \n ".join(context))) | have
    names = [t for t in info.focus if not t.replace(".", "").isdigit()]
    missing = [t for t in names if not _spelt(t, have)]
    if len(missing) > 1 or any(not _spelt(t, around) for t in missing):
        return [f"does not name {', '.join(missing)}, which the question asks about"]
    if years := [t for t in info.focus if _YEAR.fullmatch(t) and t not in have]:
        return [f"does not give the year {', '.join(years)} the question asks about"]
    if info.kind in TYPED:
        slots = find_slots(sentence, info.kind, frozenset(info.focus))
        if info.kind == NAME:
            slots = names_fitting(sentence, slots, info)  # a person's when one is asked
        if not slots:
            return [NO_KIND.format(info.kind)]
        if info.kind in VALUED and not _bound_in_lines(info, slots, sentence, quotes, similar):
            whose = ", ".join(info.subject or names) or "what the question asks about"
            return [f"its {info.kind} is not given for {whose} in the cited lines"]
    asked = [*info.asked, *_qualifiers(info)]
    present = [w for w in words(" \n ".join([evidence, *context])) if w not in STOPWORDS]
    unspoken = [w for w in asked if not _spoken_of(w, present, around, similar, near)]
    if asked and (len(asked) - len(unspoken)) / len(asked) < MIN_ASKED:
        return [f"the cited lines do not speak of: {', '.join(unspoken)}"]
    if info.kind == REASON and not gives_reason(evidence):
        return ["gives no reason"]
    return []


def _qualifiers(info: QuestionInfo) -> list[str]:
    """The words of a counted phrase that qualify the count, less its noun and the verb
    right after it: "how many ferries (run) at *night* in *winter*"."""
    phrase = [BASE.form(w) for w in info.target_phrase]
    if info.target not in phrase:
        return []
    head = phrase.index(info.target)
    qualifiers = [*info.target_phrase[:head], *info.target_phrase[head + 2 :]]
    return [w for w in qualifiers if BASE.form(w) not in info.focus]


def _spelt(term: str, have: set[str]) -> bool:
    """The term, or a spelling one letter away for a long name ("Rostec", "Rostech")."""
    if term in have:
        return True
    return len(term) >= 5 and any(
        abs(len(term) - len(word)) <= 1 and _one_edit(term, word) for word in have
    )


def _one_edit(a: str, b: str) -> bool:
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:] or (len(a) == len(b) and a[i + 1:] == b[i + 1:])


def _spoken_of(
    word: str, present: list[str], have: set[str], similar: Similarity, near: float
) -> bool:
    return BASE.form(word) in have or (bool(present) and similar([word], present) >= near)


def _bound_in_lines(
    info: QuestionInfo, slots: list[Slot], sentence: str, quotes: list[str],
    similar: Similarity,
) -> bool:
    """Whether one of the sentence's figures stands in a cited clause of the question's
    subject and counts the asked thing (there or in the sentence): the same cut the
    extractive backend makes."""
    counted = info.target_phrase if info.target else ()
    given = [(_value(s.text), not counted or counts_asked(sentence, s, counted, similar))
             for s in slots]
    exclude = frozenset(info.focus)
    for quote in quotes:
        for line in quote.split("\n"):
            for a, b in sentence_spans(line):
                text = line[a:b]
                named = set(info.subject or info.focus) & BASE.forms(words(text))
                for found in in_subject_clauses(
                    text, find_slots(text, info.kind, exclude), named
                ):
                    value = _value(found.text)
                    counts = not counted or counts_asked(text, found, counted, similar)
                    if any((g <= value or value <= g) and (counts or sentence_counts)
                           for g, sentence_counts in given):
                        return True
    return False


def _value(text: str) -> frozenset[str]:
    """A figure or date as compared: its words in number forms ("five" is "5"); one holds
    another when it has all its words ("September 7" and "September 7, 2022")."""
    return frozenset(number_form(BASE.form(w)) for w in words(text))
