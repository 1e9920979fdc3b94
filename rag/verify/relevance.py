"""Whether a sentence answers the question asked, not only says something true.

"What does a ferry ticket cost?" is not answered by "The fleet has 12 ferries", nor "How
many T-90 tanks did Algeria buy?" by "Algeria has also bought T-90 tanks", however well
their lines support them. A sentence answers when, for some part of the question
(``split_question``):
* its cited lines (or the sentence) name the question's subject ("did *Algeria* buy"), or
  say "he", "she" or "they" of a subject their file names, and any year it gives; its
  other names may stand elsewhere in the cited files (a photo caption need not repeat
  "Army-2022"); a demonym it uses as an adjective ("the *Russian* tank", "*Western*
  sanctions") is no name to find, but qualifies a count like any other word;
* a question asking for a figure, a date, a name holds one of that kind, which the
  question does not already hold (not "Vladimir" of the question's "Putin", nor a bare
  "Russian"); a "where" is answered by a name after "in", "at", "near"..., a "which
  country" by the name of a place; a figure or date stands in a cited clause of the
  question's subject, counting the asked thing ("how many *visitors*" is not answered by
  "70 *countries*");
  a name of a thing asked by its noun ("the name of the *expo*") has its lines speak of
  that noun;
* the cited lines, or other lines of their files, speak of the other words the question
  asks about, each itself or a word near it (``similar``: word vectors where the caller
  has them): every qualifier of a count ("how many ferries run at night *in winter*"), one
  word at least when a figure or date answers (its kind and subject are checked already:
  "how many soldiers were *killed*" is not answered by soldiers who *participate*),
  ``MIN_NAMED`` of them when a name does, and ``MIN_ASKED`` of them otherwise;
* a "why" question gets a sentence or lines that give a reason.
The same checks the extractive backend scores its candidates with (``rag.language``),
here as verdicts, in the base vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from rag.language.figures import (
    DATE,
    NAME,
    REASON,
    TYPED,
    VALUED,
    Slot,
    find_slots,
    names_year,
    on_calendar,
)
from rag.language.placement import (
    Similarity,
    after_locative,
    counts_asked,
    exact_similarity,
    gives_reason,
    groups_named,
    in_subject_clauses,
    names_fitting,
)
from rag.language.questions import QuestionInfo, analyze_question, split_question
from rag.language.sentences import sentence_spans
from rag.language.words import BASE, STOPWORDS, comparable, words

__all__ = ["MIN_ASKED", "MIN_NAMED", "NEAR_WORD", "NO_KIND", "UNSPOKEN", "answers_question"]

NEAR_WORD = 0.45  # least similarity for a word to stand for an asked word
MIN_ASKED = 0.75  # least share of the asked words spoken of (untyped kinds)
MIN_NAMED = 0.5  # the same for a name's question, in the cited lines and those around them
_ASKING_WORDS = 2  # asked words a question sentence needs to stand without its scene
# Verbs too light to say what is asked ("what did he *give*", "how did it *come* about").
_LIGHT = frozenset(BASE.form(w) for w in
                   "give take make get do go come put have be become keep let".split())
_COUNTRY = frozenset(BASE.form(w) for w in ("country", "countries", "nation", "nations"))
# Phrases that say one thing: "take part" is "participate", not a "part" to find.
_PHRASES = {re.compile(r"\b(?:take|takes|taking|took|taken) part\b", re.I): "participate"}
# Words that frame a question without asking anything ("as reported *across* the articles").
_FRAMING = frozenset({"across", "throughout", "overall", "exactly", "specifically",
                      "articles", "article", "sources", "source", "reported", "according"})
# Nouns a name answers without saying them: "which *country*" by "North Korea".
_NAMED_UNSAID = frozenset(BASE.form(w) for w in """country countries nation nations state
    states city cities town capital region place location partner partners buyer buyers
    name names leader leaders official officials outlet outlets newspaper newspapers agency
    channel""".split())
_PLACES = frozenset(BASE.form(p) for p in BASE.places.values())
_YEAR = re.compile(r"(?:1[5-9]|20)\d\d")
_PRONOUN = re.compile(r"\b(?:he|she|they|He|She|They|his|her|His|Her)\b")
NO_KIND = "holds no {} for the question"
# The verdict of the word check alone (the asked words not in the lines): the one a judge
# that reads paraphrase may overrule (rag.answer.llm.checking.Checker's ``judge``).
UNSPOKEN = "the cited lines do not speak of"
# A date asked by its noun: "on what *date*" wants one in the calendar, "which *year*" a
# year; "when" and "which *day*" take a weekday too.
_CALENDAR_TARGETS = {"date": on_calendar, "year": names_year}


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
    for info in _parts(question):
        problems = _problems(info, sentence, quotes, context, similar, near)
        if not problems:
            return []
        first = first or problems
    return first or []


@lru_cache(maxsize=256)
def _parts(question: str) -> tuple[QuestionInfo, ...]:
    """The question's parts, parsed once: a sentence, each way of citing it and each line
    tried in its place ask about the same question."""
    for phrase, word in _PHRASES.items():
        question = phrase.sub(word, question)
    return tuple(analyze_question(part) for part in split_question(question))


def _problems(
    info: QuestionInfo, sentence: str, quotes: list[str], context: Sequence[str],
    similar: Similarity, near: float,
) -> list[str]:
    # What the lines say, not what the sentence says: a sentence that echoes the question
    # ("Putin said Moscow is now able to supply...") does not make its lines answer it.
    evidence = " \n ".join(quotes)
    have = BASE.forms(words(evidence))
    around = BASE.forms(words(" \n ".join(context))) | have
    return (_names_problems(info, quotes, have, around)
            or _kind_problems(info, sentence, quotes, evidence, have, similar, near)
            or _asked_problems(info, evidence, context, around, similar, near))


def _names_problems(
    info: QuestionInfo, quotes: list[str], have: set[str], around: set[str]
) -> list[str]:
    """The subject in the cited lines (or "he" of it), the other names near them, the
    years in them."""
    adjectives = _adjectives(info)
    names = [t for t in info.focus if not t.replace(".", "").isdigit() and t not in adjectives]
    missing = [t for t in names if not _spelt(t, have)]
    subject = set(info.subject) - adjectives
    if subject and _PRONOUN.search(" ".join(quotes)):
        subject = {t for t in subject if not _spelt(t, around)}  # "he" of the file's Putin
    if any(t in subject or not _spelt(t, around) for t in missing):
        return [f"does not name {', '.join(missing)}, which the question asks about"]
    if years := [t for t in info.focus if _YEAR.fullmatch(t) and t not in have]:
        return [f"does not give the year {', '.join(years)} the question asks about"]
    return []


def _kind_problems(
    info: QuestionInfo, sentence: str, quotes: list[str], evidence: str, have: set[str],
    similar: Similarity, near: float,
) -> list[str]:
    """An answer of the asked kind, of the asked thing, bound to the asked subject."""
    if info.kind in TYPED:
        slots = find_slots(sentence, info.kind, frozenset(info.focus))
        if info.kind == NAME:
            slots = [s for s in names_fitting(sentence, slots, info)  # a person's if asked
                     if not _part_of_asked_name(sentence, s, info)
                     and (not info.place or after_locative(sentence, s))
                     and (info.target not in _COUNTRY or _is_place(s.text))]
            if not slots and info.person:  # "who runs it?": "its Ukrainian staff"
                asked = BASE.forms(words(info.text))
                slots = [s for s in groups_named(sentence)
                         if not BASE.forms(words(s.text)) & asked]
        if info.kind == DATE and info.target in _CALENDAR_TARGETS:
            fits = _CALENDAR_TARGETS[info.target]
            slots = [s for s in slots if fits(s.text)]  # not "Wednesday" for "what date"
            if not slots:
                return [NO_KIND.format(f"{info.target} with its place in the calendar"
                                       if info.target == "date" else info.target)]
        if not slots:
            return [NO_KIND.format(info.kind)]
        if info.kind == NAME and (noun := _thing_asked(info)) and not _spoken_of(
            noun, [w for w in words(evidence) if w not in STOPWORDS], have, similar, near
        ):
            return [f"the cited lines do not speak of the {noun} asked for"]
        if info.kind in VALUED and not _bound_in_lines(info, slots, sentence, quotes, similar):
            whose = ", ".join(info.subject or info.focus) or "what the question asks about"
            return [f"its {info.kind} is not given for {whose} in the cited lines"]
    return []


def _asked_problems(
    info: QuestionInfo, evidence: str, context: Sequence[str], around: set[str],
    similar: Similarity, near: float,
) -> list[str]:
    """The question's other words spoken of: the count's qualifiers, and the rest as
    the answer's kind asks."""
    present = [w for w in words(" \n ".join([evidence, *context])) if w not in STOPWORDS]
    if unspoken := [w for w in _qualifiers(info)
                    if not _spoken_of(w, present, around, similar, near)]:
        return [f"{UNSPOKEN}: {', '.join(unspoken)}"]
    asked = [w for w in info.asked if BASE.form(w) not in _LIGHT and w not in _FRAMING]
    # A question that sets a scene before it asks ("An old site never says its charset.
    # How do I make response.text right?") is asked by its question sentence: the scene
    # is why the user asks, not what the lines must speak of, unless that sentence says
    # too little alone ("How?").
    asking = BASE.forms(words(info.interrogative or info.text))
    if len(in_question := [w for w in asked if BASE.form(w) in asking]) >= _ASKING_WORDS:
        asked = in_question
    # Said in the cited lines or around them: a line leaves to the lines before it what
    # "the area" or "the exercises" are.
    if info.kind in VALUED:  # bound to its subject already: one asked word will do
        least = 1.0
    elif info.kind == NAME:  # any name might do: half the question
        least = MIN_NAMED * len(asked)
    else:  # nothing typed to bind: most of it
        asked = [w for w in asked if BASE.form(w) != info.target]  # what the answer names
        least = MIN_ASKED * len(asked)
    spoken = [w for w in asked if _spoken_of(w, present, around, similar, near, asked)]
    if asked and len(spoken) < least:
        unspoken = [w for w in asked if w not in spoken]
        return [f"{UNSPOKEN}: {', '.join(unspoken)}"]
    if info.kind == REASON and not gives_reason(evidence):
        return ["gives no reason"]
    return []


def _is_place(name: str) -> bool:
    """Whether a name is one the vocabulary knows as a place ("India", "North Korea")."""
    return any(BASE.form(w) in _PLACES for w in words(name))


def _adjectives(info: QuestionInfo) -> set[str]:
    """The forms of the question's demonyms, adjectives of its names ("the *Russian*
    tank", "*Western* sanctions"): what they modify is asked about, not them."""
    return {BASE.form(w) for w in words(info.text) if w in BASE.places}


def _part_of_asked_name(sentence: str, slot: Slot, info: QuestionInfo) -> bool:
    """A name slot that is a demonym alone ("Russian"), or the rest of a name the
    question gives ("Vladimir" beside the question's "Putin")."""
    if slot.text.lower() in BASE.places:
        return True
    before = re.findall(r"([A-Z][\w’'-]*)\s+$", sentence[: slot.start])
    after = re.findall(r"^\s+([A-Z][\w’'-]*)", sentence[slot.end :])
    return any(BASE.form(w) in info.focus for w in [*before, *after])


def _thing_asked(info: QuestionInfo) -> str | None:
    """The noun a name is asked for when it is a thing ("expo", "law", "model"), not a
    person, a place or a kind of organisation, which a name stands for unsaid."""
    if not info.target or info.person or info.place or info.target in _NAMED_UNSAID:
        return None
    return next((w for w in words(info.text) if BASE.form(w) == info.target), None)


def _qualifiers(info: QuestionInfo) -> list[str]:
    """The words of a counted phrase that qualify the count, less its noun and the verb
    right after it: "how many ferries (run) at *night* in *winter*"."""
    phrase = [BASE.form(w) for w in info.target_phrase]
    if info.target not in phrase:
        return []
    head = phrase.index(info.target)
    qualifiers = [*info.target_phrase[:head], *info.target_phrase[head + 2 :]]
    names = set(info.focus) - _adjectives(info)  # "Chinese soldiers": China qualifies
    return [w for w in qualifiers if BASE.form(w) not in names]


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
    word: str, present: list[str], have: set[str], similar: Similarity, near: float,
    asked: Sequence[str] = (),
) -> bool:
    """The word itself, or a word near it that is neither another asked word ("war" in the
    lines says nothing of "win", however near the two are) nor a light verb ("getting")."""
    if BASE.form(word) in have:
        return True
    others = ({BASE.form(w) for w in asked} - {BASE.form(word)}) | _LIGHT
    candidates = [p for p in present if BASE.form(p) not in others]
    return bool(candidates) and similar([word], candidates) >= near


def _bound_in_lines(
    info: QuestionInfo, slots: list[Slot], sentence: str, quotes: list[str],
    similar: Similarity,
) -> bool:
    """Whether one of the sentence's figures stands in a cited clause of the question's
    subject and counts the asked thing (there or in the sentence): the same cut the
    extractive backend makes."""
    counted = info.target_phrase if info.target else ()
    given = [(_value(s.text), not counted or _counts(sentence, s, counted, similar))
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
                    counts = not counted or _counts(text, found, counted, similar)
                    if any((g <= value or value <= g) and (counts or sentence_counts)
                           for g, sentence_counts in given):
                        return True
    return False


def _counts(text: str, slot: Slot, counted: Sequence[str], similar: Similarity) -> bool:
    """``counts_asked``, and a bare number before a conjunction ("India has purchased
    more than 450 and Algeria...") counts whatever its sentence is about."""
    tail = re.split(r"[,;:.()]|\b(?:and|or|but|while|whereas)\b", text[slot.end : slot.end + 80],
                    maxsplit=1)[0]
    if not [w for w in words(tail) if w not in STOPWORDS]:
        return True
    return counts_asked(text, slot, counted, similar)


def _value(text: str) -> frozenset[str]:
    """A figure or date as compared: its words in number forms ("five" is "5"); one holds
    another when it has all its words ("September 7" and "September 7, 2022")."""
    return frozenset(comparable(w) for w in words(text))
