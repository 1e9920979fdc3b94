"""Citation checks done by code, never by prompt: which sentences an answer has, which
lines each cites, and whether those lines support it.

``sentence_support`` is deliberately simple and deterministic. A sentence is supported by
its cited lines when
* every number in it is in them (``five`` and ``5`` are the same number);
* every name and code in it is in them (``Russian`` matches ``Russia``);
* at least ``MIN_CONTENT`` of its other content words are in them (stemmed);
* it is negated exactly when the best-matching clause of the cited lines is.
Its precision and recall on deliberately wrong answers are measured by
``benchmarks/verifier.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.answer.vocabulary import canonical
from rag.language.sentences import clauses, sentence_spans
from rag.language.words import STOPWORDS, words
from rag.types import Answer

__all__ = [
    "ID_MARKERS",
    "MIN_CONTENT",
    "NUMBER_MARKERS",
    "Support",
    "cited_sentences",
    "sentence_support",
    "split_cited",
    "split_marked",
]

MIN_CONTENT = 0.75
# "[1]" in a returned Answer; "[S1]", "[S1, S3]" in what a model writes.
NUMBER_MARKERS = re.compile(r"\s*\[(\d+)\]")
ID_MARKERS = re.compile(r"\s*\[\s*([A-Za-z]+\d+(?:\s*[,;]\s*[A-Za-z]+\d+)*)\s*\]")
# Words that frame a claim ("the sources differ", "according to") without being one.
_FRAMING = {"source", "sources", "differ", "differs", "disagree", "disagrees", "report",
            "reports", "reported", "article", "articles", "state", "states", "stated"}
_NEGATIONS = {"not", "no", "never", "none", "neither", "nor", "without", "cannot", "nothing",
              "n't", "unable", "failed", "denied", "refused"}
_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
    "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000", "once": "1",
    "twice": "2",
}


@dataclass(frozen=True)
class Support:
    supported: bool
    reasons: list[str] = field(default_factory=list)


def split_marked(text: str, marker: re.Pattern[str]) -> list[tuple[str, list[str]]]:
    """The sentences of a text, each with the markers it carries (``marker``'s group 1,
    split on commas).

    Markers may follow the full stop ("... tanks. [1]") or precede it ("... tanks [1].").
    """
    trailing = re.compile(rf"([.!?…][\"'”’)]*)((?:{marker.pattern})+)")
    text = trailing.sub(lambda m: f"{m.group(2)}{m.group(1)}", text.strip())
    out: list[tuple[str, list[str]]] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        found = [
            part.strip() for group in marker.findall(sentence)
            for part in re.split(r"[,;]", group) if part.strip()
        ]
        plain = marker.sub("", sentence).strip()
        if plain:
            out.append((plain, found))
        elif found and out:
            out[-1][1].extend(found)
    return out


def split_cited(text: str) -> list[tuple[str, list[int]]]:
    """The sentences of an Answer's text, each with the citation numbers it carries."""
    return [
        (sentence, [int(n) for n in found])
        for sentence, found in split_marked(text, NUMBER_MARKERS)
    ]


def cited_sentences(answer: Answer) -> list[tuple[str, list[str]]]:
    """Each sentence of ``answer`` with the quotes of the citations it carries."""
    out = []
    for sentence, markers in split_cited(answer.text):
        quotes = [answer.citations[n - 1].quote for n in markers if 0 < n <= len(answer.citations)]
        out.append((sentence, quotes))
    return out


def sentence_support(sentence: str, quotes: list[str]) -> Support:
    """Whether ``quotes`` (the cited lines) support ``sentence``; reasons when not."""
    if not quotes:
        return Support(False, ["cites nothing"])
    evidence = " \n ".join(quotes)
    have = {_number_form(canonical(w)) for w in words(evidence)}
    reasons = []
    sentence_words = words(sentence)
    numbers = [w for w in sentence_words if _is_number(w)]
    if missing := [n for n in numbers if _number_form(n) not in have]:
        reasons.append(f"numbers not in the cited lines: {', '.join(missing)}")
    names = _names(sentence)
    if missing := [n for n in names if canonical(n) not in have]:
        reasons.append(f"names not in the cited lines: {', '.join(missing)}")
    content = [
        w for w in sentence_words
        if w not in STOPWORDS and not _is_number(w) and w not in _NEGATIONS
        and w not in _FRAMING and w.lower() not in {n.lower() for n in names}
    ]
    if content:
        found = sum(canonical(w) in have for w in content)
        if found / len(content) < MIN_CONTENT:
            absent = [w for w in content if canonical(w) not in have]
            reasons.append(f"words not in the cited lines: {', '.join(absent[:8])}")
    if _negated(sentence) != _negated(_best_clause(sentence, quotes)):
        reasons.append("negation differs from the cited lines")
    return Support(not reasons, reasons)


def _names(sentence: str) -> list[str]:
    """Capitalised words after the first, acronyms and codes such as T-90."""
    names = []
    for i, match in enumerate(re.finditer(r"[\w’'-]+", sentence)):
        token = match.group(0)
        is_code = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        if is_code or (i > 0 and token[0].isupper() and token.lower() not in STOPWORDS):
            names.append(token)
    return names


def _is_number(word: str) -> bool:
    return word.replace(".", "").replace(",", "").isdigit() or word in _NUMBER_WORDS


def _number_form(word: str) -> str:
    return _NUMBER_WORDS.get(word, word)


def _negated(text: str) -> bool:
    low = text.lower().replace("’", "'")
    return any(w in _NEGATIONS for w in re.findall(r"[a-z]+|n't", low))


def _best_clause(sentence: str, quotes: list[str]) -> str:
    wanted = {canonical(w) for w in words(sentence) if w not in STOPWORDS}
    best, best_overlap = "", -1
    for quote in quotes:
        for line in quote.split("\n"):
            for a, b in sentence_spans(line):
                for c, d in clauses(line[a:b]):
                    clause = line[a:b][c:d]
                    overlap = len(wanted & {canonical(w) for w in words(clause)})
                    if overlap > best_overlap:
                        best, best_overlap = clause, overlap
    return best
