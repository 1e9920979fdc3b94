"""Sentences and clauses: where a line's sentences end, and where a new subject starts.

"India has purchased more than 450 and Algeria has also bought T-90 tanks" is one
sentence of two clauses, and the 450 belongs to India's: ``clauses`` makes that cut.
Both are linear in the length of the text, whatever the text.
"""

from __future__ import annotations

import re

__all__ = ["clauses", "is_clause", "sentence_spans"]

# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr st gen col lt sgt capt gov sen rep prof jr sr vs etc no nos inc ltd co
    corp jan feb mar apr jun jul aug sep sept oct nov dec approx est fig dept univ""".split()
)
_ROMAN = frozenset("i ii iii iv v vi vii viii ix x xi xii".split())
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
# Never tried from inside a run of punctuation, and never backtracking into one: a line of
# a million full stops is read once, not a million times.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+\s+")
_OPENERS = "\"'“‘([•"
# Tried only where a run of blanks starts, for the same reason.
_CLAUSE_BREAK = re.compile(
    r"(?<!\s)\s*(?:;|:|, (?:while|whereas|but|with|and|although|though|as|which|who)\b|"
    r"\s(?:while|whereas|but)\s|\s(?:and)\s(?=[A-Z]))"
)


def sentence_spans(line: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``line``, leading/trailing blanks excluded."""
    spans: list[tuple[int, int]] = []
    start = _skip_space(line, 0)
    for match in _BOUNDARY.finditer(line):
        end = match.end()
        if end >= len(line) or not _ends_sentence(line, match.start(), end):
            continue
        spans.append((start, match.start() + len(match.group(0).rstrip())))
        start = end
    tail_end = len(line.rstrip())
    if start < tail_end:
        spans.append((start, tail_end))
    return _merge_tiny(spans, line)


def clauses(text: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of ``text``'s sentences, cut where a new subject
    starts."""
    spans = []
    for first, last in sentence_spans(text):
        start = first
        for match in _CLAUSE_BREAK.finditer(text, first, last):
            if match.group(0).strip() == "and" and not is_clause(text[start : match.start()]):
                continue  # "India, China and Egypt" is a list, not two clauses
            if match.start() > start:
                spans.append((start, match.start()))
            start = match.end()
        spans.append((start, last))
    return spans


def is_clause(text: str) -> bool:
    """Whether text reads as a clause (has lower-case words), not a list of names."""
    return len(re.findall(r"\b[a-z][a-z-]+\b", text)) >= 2


def _ends_sentence(line: str, punct_at: int, next_at: int) -> bool:
    following = line[next_at]
    if following in _OPENERS:
        following = line[next_at + 1 : next_at + 2] or " "
    if not (following.isupper() or (following.isdigit() and line[punct_at] != ".")):
        return False
    if line[punct_at] != ".":
        return True
    token = line[_word_start(line, punct_at) : punct_at]
    if not token:
        return True
    bare = token.lower().rstrip(".")
    if bare in _ABBREVIATIONS:
        return False
    if len(bare) == 1 and bare.isalpha():  # an initial: "V. Putin"
        return False
    if "." in bare:  # "U.S." or "e.g."
        return False
    return not (bare in _ROMAN and token.isupper())


def _word_start(line: str, end: int) -> int:
    """Where the run of word characters and dots that ends at ``end`` begins. Scanning
    back stops at a space, and a boundary always has one, so all scans of a line together
    read it once: the splitter stays linear on a megabyte-long line."""
    at = end
    while at > 0 and (line[at - 1].isalnum() or line[at - 1] in "_."):
        at -= 1
    return at


def _merge_tiny(spans: list[tuple[int, int]], line: str) -> list[tuple[int, int]]:
    """Join a fragment of fewer than three word characters onto the sentence before it."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and len(re.findall(r"\w", line[start:end])) < 3:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at
