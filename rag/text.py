"""Word-level text analysis shared by lexical retrieval, the extractive answerer and the
verifier: tokens, stopwords, stems."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

__all__ = ["STOPWORDS", "normalize", "stem", "terms", "words"]

# English function words, plus question words, which carry no topic.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t don ve ll re d m o y ain isn aren wasn weren hasn haven hadn doesn
    didn won wouldn shan shouldn mightn mustn needn couldn according said says say tell told
    many much whose""".split()
)

_WORD = re.compile(r"\d+(?:[.,]\d+)*(?:-[^\W_]+)*|[^\W_]+(?:[-'’][^\W_]+)*")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalize(text: str) -> str:
    """NFKC, curly quotes and dashes made plain, lower case."""
    return unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()


def words(text: str) -> list[str]:
    """Lower-cased words; hyphenated names such as ``t-90`` and ``army-2022`` stay whole."""
    return [_plain_number(w) for w in _WORD.findall(normalize(text))]


def _plain_number(word: str) -> str:
    """``5,000`` -> ``5000``; other words unchanged."""
    if word[0].isdigit() and "," in word:
        return word.replace(",", "")
    return word


@cache
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def stem(word: str) -> str:
    """The Snowball (Porter2) stem of a lower-case word; possessive ``'s`` removed."""
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    return str(_stemmer().stemWord(word))  # type: ignore[attr-defined]


def terms(text: str) -> list[str]:
    """Stemmed content words: what lexical matching compares."""
    out = []
    for word in words(text):
        if word.endswith("'s"):
            word = word[:-2]
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        out.append(stem(word))
    return out
