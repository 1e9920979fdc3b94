"""What a question asks for: its answer type, the names it is about, its content terms.

Pure functions over strings; the extractive answerer uses them to decide whether a
sentence answers a question or only mentions its subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import STOPWORDS, normalize, stem, words

__all__ = ["QuestionInfo", "analyze_question", "canonical", "focus_terms"]

# Answer kinds.
NUMBER, MONEY, DATE, DURATION, NAME, REASON, YESNO, OTHER = (
    "number", "money", "date", "duration", "name", "reason", "yesno", "other"
)

_MONEY_WORDS = re.compile(r"\b(cost|costs|pay|paid|price|prices|worth|spend|spent|"
                          r"money|budget|revenue|rubles?|roubles?|dollars?|euros?|usd)\b")
_DATE_TARGETS = {"year", "date", "day", "month", "time", "week", "decade", "century"}
_NAME_TARGETS = {
    "country", "countries", "nation", "nations", "city", "cities", "state", "states",
    "person", "people", "leader", "leaders", "official", "officials", "minister",
    "president", "company", "agency", "organization", "organisation", "group", "venue",
    "place", "location", "region", "newspaper", "spokesperson", "lawmaker", "institute",
    "body", "firm", "conglomerate", "city", "town", "capital", "man", "woman", "head",
    "chief", "politician", "name", "names", "partner", "partners", "buyer", "buyers",
}
_AUXILIARIES = {
    "is", "are", "was", "were", "did", "does", "do", "has", "have", "had", "can", "could",
    "will", "would", "should", "may", "might", "must",
}
# Demonyms and their places, so "Chinese troops" matches "China" and back.
_DEMONYMS = {
    "russian": "russia", "chinese": "china", "indian": "india", "egyptian": "egypt",
    "turkish": "turkey", "ukrainian": "ukraine", "korean": "korea", "american": "america",
    "syrian": "syria", "iranian": "iran", "japanese": "japan", "european": "europe",
    "african": "africa", "asian": "asia", "algerian": "algeria", "german": "germany",
    "french": "france", "british": "britain", "vietnamese": "vietnam", "western": "west",
    "eastern": "east", "soviet": "ussr", "israeli": "israel", "pakistani": "pakistan",
    # capitals and seats of government stand for their countries in news prose
    "moscow": "russia", "kremlin": "russia", "kyiv": "ukraine", "kiev": "ukraine",
    "pyongyang": "korea", "seoul": "korea", "beijing": "china", "cairo": "egypt",
    "ankara": "turkey", "washington": "america", "us": "america", "usa": "america",
    "u.s": "america", "tehran": "iran", "damascus": "syria", "tokyo": "japan",
    "algiers": "algeria", "delhi": "india", "berlin": "germany", "paris": "france",
    "london": "britain", "brussels": "europe", "eu": "europe",
}


@dataclass(frozen=True)
class QuestionInfo:
    text: str  # the interrogative part, instructions around it removed
    kind: str
    target: str | None  # stem of the noun asked about ("tank" in "how many tanks")
    focus: tuple[str, ...]  # canonical names and numbers the answer must be about
    terms: tuple[str, ...]  # stemmed content words


def canonical(word: str) -> str:
    """A comparable form of a word: demonyms mapped to places, then stemmed."""
    word = normalize(word)
    if word.endswith("'s"):
        word = word[:-2]
    if re.fullmatch(r"[a-z]+-?\d+s", word):  # "T-90s" -> "t-90"
        word = word[:-1]
    return stem(_DEMONYMS.get(word, word))


def focus_terms(text: str) -> list[str]:
    """Names, codes and numbers in ``text`` (``Algeria``, ``T-90``, ``IAEA``, ``2019``)."""
    text = re.sub(r"\bUnited States\b|\bU\.S\.", "US", text)
    found = []
    for i, match in enumerate(re.finditer(r"[\w’'.-]*\w", text)):
        token = match.group(0).strip(".")
        plain = normalize(token)
        if not token or plain in STOPWORDS:
            continue
        is_code = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        is_number = token.replace(",", "").replace(".", "").isdigit()
        is_name = token[0].isupper() and (i > 0 or plain not in _OPENERS)
        if is_code or is_number or is_name:
            found.append(canonical(token.replace(",", "")))
    return list(dict.fromkeys(found))


_OPENERS = {"which", "what", "who", "whom", "whose", "when", "where", "why", "how", "name",
            "list", "give", "tell", "according", "in", "on", "at", "for", "from", "by",
            "during", "after", "before", "since", "did", "does", "do", "is", "are", "was",
            "were", "has", "have", "had", "can", "could", "will", "would", "should", "the", "a",
            "an", "around", "besides", "apart", "other", "than", "to", "as", "per", "under",
            "with", "without", "about", "if", "although", "though", "while", "despite",
            "beyond", "turkey"} - {"turkey"}


def analyze_question(question: str) -> QuestionInfo:
    """Split off instructions, then classify what ``question`` asks for."""
    text = _interrogative_part(question)
    low = normalize(text)
    ws = words(text)
    kind, target = _kind_and_target(low, ws)
    return QuestionInfo(
        text=text,
        kind=kind,
        target=stem(target) if target else None,
        focus=tuple(focus_terms(text)),
        terms=tuple(dict.fromkeys(canonical(w) for w in words(text) if w not in STOPWORDS)),
    )


def _head_noun(ws: list[str], after: str) -> str | None:
    """The first plain word of ``after``: not a stopword, number, code or demonym."""
    for word in words(after)[:4]:
        if word in _AUXILIARIES:
            return None
        if word in STOPWORDS or word in _DEMONYMS or any(c.isdigit() for c in word):
            continue
        return word
    return None


def _interrogative_part(question: str) -> str:
    """The question itself, when it comes wrapped in instructions ("Ignore ... . Who ...?")."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", question.strip()) if s.strip()]
    asked = [s for s in sentences if s.endswith("?")]
    if asked and len(sentences) > 1:
        return " ".join(asked)
    return question.strip()


def _kind_and_target(low: str, ws: list[str]) -> tuple[str, str | None]:
    if m := re.search(r"\bhow (many|much)\b", low):
        target = _head_noun(ws, low[m.end():])
        if m.group(1) == "much" and (_MONEY_WORDS.search(low) or target is None):
            return MONEY, None
        if target and _MONEY_WORDS.search(target):
            return MONEY, None
        return NUMBER, target
    if m := re.search(r"\b(?:quantity|number) of\b", low):
        return NUMBER, _head_noun(ws, low[m.end():])
    if re.search(r"\bhow (long|old)\b", low):
        return DURATION, None
    if re.search(r"\b(what|which) (percentage|share|proportion|portion|fraction|number|"
                 r"amount|quantity|figure|total)\b", low):
        return (MONEY, None) if _MONEY_WORDS.search(low) else (NUMBER, None)
    if re.search(r"\b(what|which) (?:was |is |were |are )?(?:the )?(value|price|cost|sum)\b", low):
        return MONEY, None
    if re.search(r"\bwhen\b", low):
        return DATE, None
    if m := re.search(r"\b(?:what|which)\s+((?:[\w-]+\s+){0,3}[\w-]+)", low):
        following = m.group(1).split()
        if following[0] in _AUXILIARIES:
            return (REASON, None) if "why" in ws else (OTHER, None)
        for noun in following:
            if noun in _DATE_TARGETS:
                return DATE, noun
            if noun in _NAME_TARGETS:
                return NAME, noun
        if noun := _head_noun(ws, " ".join(following)):
            return OTHER, noun
    if re.search(r"\b(who|whom|whose)\b", low):
        return NAME, None
    if re.search(r"\bwhere\b", low):
        return NAME, None
    if re.search(r"\bwhy\b", low):
        return REASON, None
    if ws and ws[0] in _AUXILIARIES:
        return YESNO, None
    return OTHER, None
