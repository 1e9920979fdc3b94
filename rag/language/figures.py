"""Where in a sentence an answer of a given kind could be: numbers, sums of money, dates,
durations, names. A ``Slot`` is such a span; its ``unit`` is what a number counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.language.words import BASE, STOPWORDS, Vocabulary

__all__ = [
    "DATE", "DURATION", "KINDS", "MONEY", "NAME", "NUMBER", "OTHER", "REASON", "TYPED",
    "VALUED", "YESNO", "Slot", "find_slots", "names_year", "on_calendar", "unit_words",
]

# Answer kinds: what a question asks for.
NUMBER, MONEY, DATE, DURATION, NAME, REASON, YESNO, OTHER = (
    "number", "money", "date", "duration", "name", "reason", "yesno", "other"
)
KINDS = (NUMBER, MONEY, DATE, DURATION, NAME, REASON, YESNO, OTHER)
TYPED = (NUMBER, MONEY, DATE, DURATION, NAME)  # kinds an answer holds as a span
VALUED = (NUMBER, MONEY, DATE, DURATION)  # kinds whose answer is a figure or a date

_SCALES = r"hundreds?|thousands?|millions?|billions?|trillions?|dozens?"
_NUMBER_WORDS = (
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|eleven|twelve|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|half|once|twice|thrice|thirds?|quarters?|several|numerous|majority|"
    + _SCALES
)
# A number not glued to letters: "450", "50,000", "15.9", "1 trillion", "two-thirds",
# but not the 90 of "T-90".
_NUMBER = re.compile(
    rf"(?<![\w-])(?:\d+(?:[.,]\d+)*(?:\.?\s+(?:{_SCALES})\b)?(?:-[a-z]+)?|"
    rf"(?:{_NUMBER_WORDS})\b(?:[- ](?:{_NUMBER_WORDS})\b)*)"
    r"(?![\w-]*\d)",
    re.IGNORECASE,
)
_CURRENCY = re.compile(r"rubles?|roubles?|euros?|dollars?|pounds?|yuan|usd|eur|[$€£¥]",
                       re.IGNORECASE)
_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan\.|feb\.|mar\.|apr\.|jun\.|jul\.|aug\.|sept?\.|oct\.|nov\.|dec\."
)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})(?:\s+\d{{1,2}})?(?:,?\s+\d{{4}})?|\d{{1,2}}\s+(?:{_MONTHS})|"
    r"(?:1[5-9]|20)\d\d(?:s)?|(?:early|mid|late)[- ]\d0s|\d0s|"
    # An earlier year needs a word of time before it and no noun after it: "in 1041,"
    # is a date, "1200 soldiers" a number.
    r"(?:in|by|since|until|till|from|after|before|around|circa|c\.)\s+1?\d{3}(?!\s+[a-z])|"
    r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
    r"tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|"
    r"eighteenth|nineteenth|twentieth|twenty-first)[- ]centur(?:y|ies)|"
    # Times of day answer "what time" and "when": "at 5 pm", "14:30", "noon".
    r"\d{1,2}(?:[:.]\d\d)?\s*(?:[ap]\.m|am|pm)|\d{1,2}:\d\d|noon|midnight|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|"
    r"(?:last|next|this|earlier this|later this)\s+(?:week|month|year|afternoon|morning|"
    r"summer|spring|autumn|winter)|in recent (?:days|weeks|months|years))\b",
    re.IGNORECASE,
)
# What places a date in the calendar: a month, a year, a decade, a century.
_YEAR_DIGITS = r"(?:1[5-9]|20)\d\d"
_YEARLY = rf"{_YEAR_DIGITS}|\d0s|centur(?:y|ies)"
_CALENDAR = re.compile(rf"\b(?:{_MONTHS}|{_YEARLY})", re.IGNORECASE)
_YEAR = re.compile(rf"\b(?:{_YEARLY})", re.IGNORECASE)
# A duration's unit after its number, written out or short as settings write it ("600s",
# "5 min", "250 ms", "2h").
_TIME_UNIT = re.compile(
    r"[- ]?(?:days?|weeks?|months?|years?|hours?|decades?|minutes?|seconds?|"
    r"milliseconds?|mins?|secs?|hrs?|ms|s|h)\b", re.IGNORECASE)
_NAME = re.compile(
    r"(?:[A-Z][\w’'-]*[a-z0-9][\w’'-]*|[A-Z]{2,}[\w-]*|[A-Z]\.)"
    r"(?:\s+(?:of\s+|the\s+|de\s+)?(?:[A-Z][\w’'-]*|[A-Z]{2,}))*"
)
_UNIT_SKIP = {"more", "than", "of", "the", "about", "nearly", "almost", "over", "some",
              "around", "at", "least", "up", "to", "russian", "new", "its", "their", "his"}


@dataclass(frozen=True)
class Slot:
    start: int
    end: int
    text: str
    unit: str | None = None  # the word that follows a number ("soldiers" in "50,000 soldiers")


def find_slots(
    sentence: str, kind: str, exclude: frozenset[str] = frozenset(), vocab: Vocabulary = BASE
) -> list[Slot]:
    """Spans of ``sentence`` that could answer a question of ``kind``.

    ``exclude`` holds forms (``vocab.form``) already in the question: a question never
    answers itself ("How many T-90 tanks" is not answered by the 90 of T-90).
    """
    if kind == NUMBER:
        dates = [(m.start(), m.end()) for m in _DATE.finditer(sentence)]
        found = [_number_slot(sentence, m) for m in _NUMBER.finditer(sentence)]
        return [
            s for s in found
            if not _is_year(s.text) and vocab.form(s.text) not in exclude
            and not any(a <= s.start < b for a, b in dates)
        ]
    if kind == MONEY:
        return [
            slot for slot in find_slots(sentence, NUMBER, exclude, vocab)
            if _CURRENCY.search(sentence[max(0, slot.start - 2) : slot.end + 25])
        ]
    if kind == DATE:  # the 2022 of "Army-2022" names the expo: no date
        return [
            Slot(m.start(), m.end(), m.group(0)) for m in _DATE.finditer(sentence)
            if vocab.form(m.group(0)) not in exclude
            and not re.match(r"\w-$", sentence[max(0, m.start() - 2) : m.start()])
        ]
    if kind == DURATION:
        spans = [
            slot for slot in find_slots(sentence, NUMBER, exclude, vocab)
            if _TIME_UNIT.match(sentence, slot.end) or _TIME_UNIT.search(slot.text)
        ]
        return spans or find_slots(sentence, DATE, exclude, vocab)  # "until the early 90s"
    if kind == NAME:
        return [
            slot for m in _NAME.finditer(sentence) if (slot := _name_slot(m, exclude, vocab))
        ]
    return []


def _name_slot(match: re.Match[str], exclude: frozenset[str], vocab: Vocabulary) -> Slot | None:
    """A run of capitalised words, less the function words, dates and names the question
    already has: "On Wednesday" is no name, "Russian President Vladimir Putin" is
    "President Vladimir" for a question about Putin."""
    kept = []
    for token in re.finditer(r"[\w’'.-]+", match.group(0)):
        word = token.group(0)
        plain = word.lower().strip(".’'")
        if plain in STOPWORDS or _DATE.fullmatch(word) or vocab.form(word) in exclude:
            continue
        kept.append(token)
    if not kept:
        return None
    start = match.start() + kept[0].start()
    end = match.start() + kept[-1].end()
    return Slot(start, end, match.string[start:end])


def unit_words(sentence: str, slot: Slot) -> list[str]:
    """Up to four words after a number, to the next punctuation: what it counts."""
    tail = re.split(r"[,;:.()]", sentence[slot.end : slot.end + 80], maxsplit=1)[0]
    return [w.lower() for w in re.findall(r"[A-Za-z][\w-]*", tail)][:4]


def _number_slot(sentence: str, match: re.Match[str]) -> Slot:
    unit = None
    for word in re.findall(r"[A-Za-z][\w-]*", sentence[match.end() : match.end() + 60]):
        if word.lower() in _UNIT_SKIP or any(c.isdigit() for c in word):
            continue
        unit = word.lower()
        break
    return Slot(match.start(), match.end(), match.group(0), unit)


def on_calendar(date: str) -> bool:
    """Whether a date says where in the calendar it falls ("September 7", "2019"), not
    only a weekday, a time of day or a day counted from today ("Wednesday", "5 pm",
    "last week"): what "on what *date*" asks for."""
    return bool(_CALENDAR.search(date))


def names_year(date: str) -> bool:
    """Whether a date gives its year (or decade, or century): what "which *year*" asks."""
    return bool(_YEAR.search(date))


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(_YEAR_DIGITS, text))

