"""Words: tokens, stopwords, stems, and the comparable form of a word.

``Vocabulary`` decides when two words are the same word: irregular verbs go to their base
("bought" is "buy"), a demonym to its place ("Russian" is "Russia"), then the Snowball
stem. The base vocabulary knows nothing else; a backend may add aliases of its own (the
extractive backend's "Moscow" for "Russia"), but the checker never does: to it "Seoul"
and "Pyongyang" are two places.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

__all__ = [
    "BASE",
    "NUMBER_WORDS",
    "STOPWORDS",
    "Vocabulary",
    "comparable",
    "function_word",
    "is_number",
    "normalize",
    "number_form",
    "read_table",
    "stem",
    "terms",
    "words",
]


def read_words(name: str, package: str = "rag.language") -> list[str]:
    """The entries of a packaged word list (``data/<name>``): one per line, ``#`` comments."""
    text = resources.files(package).joinpath("data", name).read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def read_table(name: str, package: str = "rag.language") -> dict[str, str]:
    """A packaged two-column word list: ``word<TAB>what it stands for``."""
    return dict(line.split("\t", 1) for line in read_words(name, package))


STOPWORDS = frozenset(read_words("stopwords.txt"))
NUMBER_WORDS = read_table("number_words.tsv")
_IRREGULAR = read_table("irregular_verbs.tsv")
_DEMONYMS = read_table("demonyms.tsv")

# The endings of a contraction: "what's", "doesn't", "I'm", "they're", "I've", "we'll", "I'd".
_CONTRACTED = re.compile(r"^([^\W_]+?)(?:n?['’]t|['’](?:s|m|re|ve|ll|d))$")


def function_word(word: str) -> bool:
    """Whether a lower-cased word says nothing of a topic: a stop word, or a contraction
    of one ("what's", "doesn't", "can't", "I'm"; not "uvicorn's")."""
    if word in STOPWORDS:
        return True
    match = _CONTRACTED.match(word)
    return match is not None and (match.group(1) in STOPWORDS
                                  or f"{match.group(1)}n" in STOPWORDS)


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


def is_number(word: str) -> bool:
    """Whether a word (from ``words``) is a figure: ``450``, ``15.9``, ``five``, ``twice``."""
    return word.replace(".", "").replace(",", "").isdigit() or word in NUMBER_WORDS


def number_form(word: str) -> str:
    """``five`` -> ``5``; other words unchanged."""
    return NUMBER_WORDS.get(word, word)


# A month's abbreviation is its name: "Sept. 3" is "September 3". ("mar" and "may" are
# words too, and "may" is no abbreviation.)
_MONTH_ABBREVIATIONS = {"jan": "january", "feb": "february", "apr": "april", "jun": "june",
                        "jul": "july", "aug": "august", "sep": "september",
                        "sept": "september", "oct": "october", "nov": "november",
                        "dec": "december"}


class Vocabulary:
    """When two words count as the same: ``form`` maps a word to a comparable form.

    ``places`` maps a word to the place it names; the base vocabulary has only demonyms.
    """

    def __init__(self, places: Mapping[str, str] | None = None) -> None:
        self.places = dict(_DEMONYMS if places is None else places)
        self.form = cache(self._form)

    def with_places(self, more: Mapping[str, str]) -> Vocabulary:
        """This vocabulary with more words that name places."""
        return Vocabulary({**self.places, **more})

    def _form(self, word: str) -> str:
        """Irregular verbs to their base, place words to their place, then stemmed;
        ``T-90s`` is ``t-90`` and ``Russian-made`` is ``russia``."""
        word = normalize(word)
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if re.fullmatch(r"[a-z]+-?\d+s", word):
            word = word[:-1]
        head, dash, tail = word.partition("-")
        if dash and tail.isalpha() and head in self.places:
            word = head
        word = _IRREGULAR.get(word, _MONTH_ABBREVIATIONS.get(word, word))
        return stem(self.places.get(word, word))

    def forms(self, word_list: Iterable[str]) -> set[str]:
        """The forms of words, plus those of the parts of hyphenated ones ("jong-un" also
        gives "un")."""
        out = set()
        for word in word_list:
            out.add(self.form(word))
            if "-" in word:
                out.update(self.form(part) for part in word.split("-") if part)
        return out


BASE = Vocabulary()


def comparable(word: str) -> str:
    """A word (from ``words``) as the checker compares it: a figure in number form
    ("seven" is "7"), anything else in its base form."""
    return number_form(word) if is_number(word) else BASE.form(word)
