"""What a question asks for: its answer kind, the names it is about, its content terms.

Pure functions over strings, shared by the checker (is a sentence an answer to this
question?) and the extractive backend (which sentence answers it?). Words are compared
in the forms of a ``Vocabulary``: the checker's base one, or a backend's with more
aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.language.figures import (
    DATE,
    DURATION,
    MONEY,
    NAME,
    NUMBER,
    OTHER,
    REASON,
    YESNO,
)
from rag.language.words import (
    BASE,
    NUMBER_WORDS,
    STOPWORDS,
    Vocabulary,
    function_word,
    normalize,
    words,
)

__all__ = [
    "QuestionInfo",
    "analyze_question",
    "focus_terms",
    "low_from_wh",
    "split_question",
]

_MONEY_WORDS = re.compile(r"\b(cost|costs|pay|paid|price|prices|worth|spend|spent|"
                          r"money|budget|revenue|revenues|rubles?|roubles?|dollars?|euros?|usd)\b")
_DATE_TARGETS = {"year", "date", "day", "month", "time", "week", "decade", "century"}
# What a figure gives: "what chunk size", "which local ports", "what connection limits".
_FIGURE_TARGETS = {"size", "sizes", "limit", "limits", "port", "ports"}
_PERSON_TARGETS = {
    "person", "people", "leader", "official", "minister", "president", "spokesperson",
    "spokesman", "spokeswoman", "lawmaker", "politician", "man", "woman", "head", "chief",
    "chair", "chairman", "commander", "general", "director", "envoy", "diplomat", "analyst",
}
_NAME_TARGETS = _PERSON_TARGETS | {
    "country", "countries", "nation", "nations", "city", "cities", "state", "states",
    "leaders", "officials", "company", "agency", "organization", "organisation", "group",
    "venue", "place", "location", "region", "newspaper", "institute", "body", "firm",
    "conglomerate", "town", "capital", "name", "names", "partner", "partners", "buyer",
    "buyers", "outlet", "channel", "law", "model", "party", "port",
}
_AUXILIARIES = {
    "is", "are", "was", "were", "did", "does", "do", "has", "have", "had", "can", "could",
    "will", "would", "should", "may", "might", "must",
}
# A question's subject follows its auxiliary: "did *Egypt* buy", "has *India* bought".
_SUBJECT = re.compile(
    r"\b(?:did|does|do|has|have|had|was|were|is|are|will|would|could|can)\s+"
    r"((?:the\s+)?(?:[A-Z][\w’'-]*\s*){1,3})"
)
_EXCLUSIVE = re.compile(r"\b(?:only|solely|just)\s+([A-Z][\w’'-]*)|([A-Z][\w’'-]*)\s+"
                        r"(?:alone|only|by itself|on its own)\b")
# Options offered after a comma, each a name of up to three words: "..., India or Algeria?"
_OPTION = r"[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*){0,2}"
_ALTERNATIVES = re.compile(rf",\s+({_OPTION})\s+or\s+({_OPTION})\s*\?\s*$")


@dataclass(frozen=True)
class QuestionInfo:
    text: str  # the interrogative part, instructions around it removed
    kind: str
    target: str | None  # the form of the noun asked about ("tank" in "how many tanks")
    target_phrase: tuple[str, ...]  # the words after "how many" up to the verb
    quoted: tuple[str, ...]  # phrases the question quotes ('missing-in-action')
    asked: tuple[str, ...]  # other content words, as written: what is asked about the names
    focus: tuple[str, ...]  # forms of the names, codes and numbers of the question
    subject: tuple[str, ...]  # focus terms that are the question's grammatical subject
    exclusive: tuple[str, ...]  # focus terms asked about alone ("India alone")
    person: bool  # asks for a person ("who", "which minister")
    place: bool  # asks for a place ("where", "in which city")
    terms: tuple[str, ...]  # forms of the content words
    version: bool = False  # asks which version or release ("What minimum version of h2...")
    # The sentences that ask, without the scene set before them ("An old site never says
    # its charset. *How do I make response.text right?*"); ``text`` when all of it asks.
    interrogative: str = ""


_WH = r"(?:what|which|who|whom|whose|when|where|why|how)"
_PURPOSE = re.compile(r",\s+(to\s+[^,?]+)\?$")
_ANAPHOR = re.compile(r"\b(?:it|its|they|them|their|that|this|these|those|there)\b", re.I)


def split_question(question: str) -> list[str]:
    """A question that asks two things, as two questions; others as they are.

    "When and where did they meet?" -> "When did they meet?", "Where did they meet?";
    "Which country sells shells, and what did Putin pledge?" -> its two halves;
    "What does the write timeout limit, and what is raised when it's exceeded?" ->
    "What does the write timeout limit?", "What does the write timeout limit. What is
    raised when it's exceeded?" (the second half says what "it" is).
    """
    text = question.strip()
    if m := re.match(rf"^({_WH})\s+and\s+({_WH})\s+(.+)$", text, flags=re.I):
        return [f"{m.group(1)} {m.group(3)}", f"{m.group(2).capitalize()} {m.group(3)}"]
    parts = re.split(rf",?\s+and\s+(?=(?:{_WH})\b)", text, maxsplit=1, flags=re.I)
    if len(parts) == 2 and len(words(parts[0])) >= 3 and len(words(parts[1])) >= 3:
        first = parts[0].rstrip(" ,?") + "?"
        second = parts[1][0].upper() + parts[1][1:]
        second = second if second.endswith("?") else second + "?"
        # A purpose both halves share stays with both: "What do I need to install, and
        # what do I pass when creating the client, to use HTTP/2 with httpx?"
        if purpose := _PURPOSE.search(second):
            first = f"{first[:-1]} {purpose.group(1)}?"
        # A half that points back ("What is raised when *it* is exceeded?") is asked
        # with the first half before it, as context (a statement, so it does not decide
        # what kind of answer the half asks for).
        if _ANAPHOR.search(second):
            second = f"{first[:-1]}. {second}"
        return [first, second]
    return [question]


def focus_terms(text: str, vocab: Vocabulary = BASE) -> list[str]:
    """Names, codes and numbers in ``text`` (``Algeria``, ``T-90``, ``IAEA``, ``2019``)."""
    text = re.sub(r"\bUnited States\b|\bU\.S\.", "US", text)
    found = []
    before = 0
    for match in re.finditer(r"[\w’'.-]*\w", text):
        token = match.group(0).strip(".")
        plain = re.sub(r"['’](?:s|d|m|ve|ll|re)$", "", normalize(token))  # "What's", "I'd"
        starts = before == 0 or re.search(r"[.!?:]\s*$", text[before : match.start()])
        before = match.end()
        if not token or plain in STOPWORDS or function_word(normalize(token)):
            continue
        is_code = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        is_number = token.replace(",", "").replace(".", "").isdigit()
        is_name = token[0].isupper() and plain not in _NOT_NAMES and not (
            starts and (plain in _OPENERS or plain in NUMBER_WORDS))
        if is_code or is_number:
            found.append(vocab.form(token.replace(",", "")))
        elif is_name:
            # "Russia-North Korea" names two places; "Russian-made" names one.
            parts = token.split("-")
            found.extend(vocab.form(part) for part in parts if part[:1].isupper())
    return list(dict.fromkeys(found))


# Words written in capitals that name nothing: "Is it OK to upload...?"
_NOT_NAMES = {"ok", "okay"}
# A placeholder ("workers=<NUM>") or a literal set in code ("reload=True") is neither a
# name nor a word the cited lines must say; a value that is a name ("SameSite=Lax") is.
_CODE_VALUE = re.compile(r"<[A-Za-z_]+>|(?<==)(?:True|False|None|null)\b")
_OPENERS = {"which", "what", "who", "whom", "whose", "when", "where", "why", "how", "name",
            "list", "give", "tell", "according", "in", "on", "at", "for", "from", "by",
            "during", "after", "before", "since", "did", "does", "do", "is", "are", "was",
            "were", "has", "have", "had", "can", "could", "will", "would", "should", "the", "a",
            "an", "around", "besides", "apart", "other", "than", "to", "as", "per", "under",
            "with", "without", "about", "if", "although", "though", "while", "despite",
            "beyond", "just", "using", "based", "please", "ignore",
            # imperatives and adverbs that open a request: "Show me how...", "Roughly how"
            "show", "explain", "describe", "suppose", "imagine", "assume", "roughly",
            "together", "instead", "once", "overall", "every", "inside", "testing", "porting"}


def analyze_question(question: str, vocab: Vocabulary = BASE) -> QuestionInfo:
    """Split off instructions, then classify what ``question`` asks for; words compared in
    ``vocab``'s forms."""
    text, interrogative = _context_and_question(question)
    asked = _ALTERNATIVES.sub("?", text)  # "..., India or Algeria?": options, not subjects
    asked = _CODE_VALUE.sub("", asked)
    low = normalize(_ALTERNATIVES.sub("?", interrogative))
    focus = focus_terms(asked, vocab)
    kind, target = _kind_and_target(low, set(focus), vocab)
    subject = [
        t for m in _SUBJECT.finditer(asked) for t in focus_terms(m.group(1), vocab)
    ]
    exclusive = [
        t for m in _EXCLUSIVE.finditer(asked)
        for t in focus_terms(m.group(1) or m.group(2), vocab)
    ]
    phrase = _target_phrase(low)
    person = kind == NAME and (
        bool(re.search(r"\b(who|whom|whose)\b", low)) or target in _PERSON_TARGETS
    )
    place = kind == NAME and bool(
        re.search(r"^where\b|\b(which|what) (city|country|town|region|place|location|venue|"
                  r"port|capital|province|area)\b", low_from_wh(low))
    )
    return QuestionInfo(
        text=text,
        kind=kind,
        target=vocab.form(target) if target else None,
        target_phrase=phrase,
        quoted=tuple(_quoted(asked)),
        asked=tuple(dict.fromkeys(
            w for w in words(asked)
            if not function_word(w) and w not in _QUESTION_VERBS and vocab.form(w) not in focus
            and not {vocab.form(part) for part in w.split("-")} <= set(focus)
            and w not in phrase
        )),
        focus=tuple(focus),
        subject=tuple(dict.fromkeys(subject)),
        exclusive=tuple(dict.fromkeys(exclusive)),
        person=person,
        place=place,
        terms=tuple(dict.fromkeys(vocab.form(w) for w in words(asked) if not function_word(w))),
        version=bool(_VERSION_ASKED.match(low_from_wh(low))),
        interrogative=interrogative,
    )


# "What minimum version of h2...", "In which httpx release...", "What is the oldest
# Python version...": the answer is a version number.
_VERSION_ASKED = re.compile(
    r"(?:what|which)(?:['’]s)?\s+(?:(?:is|are|was|were)\s+)?(?:the\s+)?"
    r"(?:(?:minimum|maximum|oldest|newest|latest|earliest|first|last|lowest|highest|required|"
    r"supported|min|max)\s+)?(?:[\w.-]+\s+)?(?:version|release)s?\b"
)


def low_from_wh(low: str) -> str:
    """The lower-cased question from its first question word on. "When" asks only when
    a verb follows it ("when did"); otherwise it opens a clause: "When I catch the error,
    which attributes...?", "Do cookies persist when I use httpx.get()?"."""
    first = _FIRST_WH.search(low)
    return low[first.start():] if first else low


_FIRST_WH = re.compile(
    r"\b(?:what|which|who|whom|whose|where|why|how)\b"
    rf"|\bwhen(?=\s+(?:and|or|{'|'.join(sorted(_AUXILIARIES))})\b|['’]s\b|\s*\?)"
)


def _context_and_question(question: str) -> tuple[str, str]:
    """What the question says, less any instructions it comes wrapped in ("Ignore ... .
    Who ...?"), and its interrogative sentences alone, which decide what kind of answer
    it asks for. Other sentences are the question's context and stay: in "I need the
    body bytes exactly as the server sent them. How?" the first sentence is the
    question."""
    text = question.strip()
    sentences = [s.strip() for s in re.split(r"(?<=[.!?:])\s+", text) if s.strip()]
    asked = [s for s in sentences if s.endswith("?")]
    if not asked or len(sentences) == 1:
        return text, text
    kept = [s for s in sentences if s.endswith("?") or not _INSTRUCTION.search(s)]
    return " ".join(kept), " ".join(asked)


# A sentence addressed to the answering system, not about the documents' subject.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|instructions?|reply|respond|answer|cite|citations?|documents?|sources?|"
    r"admin|pretend|prompt|caveats?|memory)\b|\b[\w-]+\.txt\b",
    re.IGNORECASE,
)


def _kind_and_target(low: str, focus: set[str], vocab: Vocabulary) -> tuple[str, str | None]:
    # The first question word decides: "What is he expected to do when he arrives?"
    # asks "what", not "when".
    low = low_from_wh(low)
    # "How many" asks for a figure where it opens the question or a second one joined to
    # it ("..., and how much"); inside another ("Which outlet reported how much...",
    # "What should I read to know how many bytes...") it is what the answer is about.
    if m := re.search(r"(?:^|\band |, )how (many|much)\b", low):
        target = _head_noun(low[m.end():], focus, vocab)
        if m.group(1) == "much" and (_MONEY_WORDS.search(low) or target is None):
            return MONEY, None
        if target and _MONEY_WORDS.search(target):
            return MONEY, None
        return NUMBER, target
    if m := re.search(r"\b(?:quantity|number) of\b", low):
        return NUMBER, _head_noun(low[m.end():], focus, vocab)
    if re.search(r"\bhow (long|old)\b", low):
        return DURATION, None
    if re.search(r"^(what|which) (percentage|share|proportion|portion|fraction|number|"
                 r"amount|quantity|figure|total)\b", low):
        return (MONEY, None) if _MONEY_WORDS.search(low) else (NUMBER, None)
    if re.search(r"^(what|which)\b", low) and (
        _MONEY_WORDS.search(low) or re.search(r"\b(value|sum) (of|in)\b|\btotal value\b", low)
    ):
        return MONEY, None
    if re.search(r"^when\b", low) and _FIRST_WH.match(low):
        return DATE, None
    if m := re.search(r"\bname(?:s)? of (?:the |a |an |its |their )?((?:[\w-]+ ){0,2}[\w-]+)",
                      low):
        return NAME, _last_noun(m.group(1))
    if m := re.search(r"^(?:what|which)\s+((?:[\w-]+\s+){0,3}[\w-]+)", low):
        following = m.group(1).split()
        if following[0] in _AUXILIARIES:
            return (REASON, None) if re.search(r"\bwhy\b", low) else (OTHER, None)
        for noun in following:
            if noun in _DATE_TARGETS:
                return DATE, noun
            if noun in _NAME_TARGETS:
                return NAME, noun
            if noun in _FIGURE_TARGETS:
                return NUMBER, noun
        if noun := _head_noun(" ".join(following), focus, vocab):
            return OTHER, noun
    if re.search(r"^(who|whom|whose|where)\b", low):
        return NAME, None
    if re.search(r"^why\b", low):
        return REASON, None
    opening = words(low)[:1]
    if opening and opening[0] in _AUXILIARIES:
        return YESNO, None
    return OTHER, None


_QUESTION_VERBS = set(
    """far ever yet still according say said says report reported reportedly article articles
    describe described mention mentioned name named give list tell based using answer do
    happen happened take took get got make made""".split()
)


def _target_phrase(low: str) -> tuple[str, ...]:
    """The counted phrase: "how many *russian-backed breakaway republics* did ..."."""
    m = re.search(r"\bhow many\s+(.*?)(?:\s+(?:did|do|does|has|have|had|were|was|are|is|will|"
                  r"would|could|can)\b|[?,]|$)", low)
    if not m:
        return ()
    phrase = []
    for word in words(m.group(1)):
        if word.endswith("ed") and "-" not in word:
            break  # "how many visitors *attended* ...": the verb ends the phrase
        if word not in STOPWORDS:
            phrase.append(word)
    return tuple(phrase[:4])


def _quoted(text: str) -> list[str]:
    """Phrases in quotation marks: a sentence that answers must contain them."""
    found = re.findall(r"(?:(?<=\s)|^)[\"“‘']([^\"“”]{2,80}?)[\"”’'](?=[\s?.,!;:]|$)", text)
    return [q for q in found if words(q)]


def _head_noun(after: str, focus: set[str], vocab: Vocabulary) -> str | None:
    """The first plain word of ``after``: not a stopword, number, code, name or demonym."""
    for word in words(after)[:4]:
        if word in _AUXILIARIES:
            return None
        if (word in STOPWORDS or word in vocab.places or any(c.isdigit() for c in word)
                or vocab.form(word) in focus):
            continue
        return word
    return None


def _last_noun(phrase: str) -> str | None:
    kept = [w for w in words(phrase) if w not in STOPWORDS]
    return kept[-1] if kept else None
