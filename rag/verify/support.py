"""Whether the lines a sentence cites support it: checked by code, deterministic.

A sentence is supported by its cited lines when
* every number in it is in them (``five`` and ``5`` are the same number);
* every name and code in it is in them (``Russian`` matches ``Russia``, ``IAEA`` the
  words it abbreviates; no other alias: ``Seoul`` is not ``Pyongyang``);
* at least ``MIN_CONTENT`` of its other content words are in them (stemmed); a sentence
  with none of its own, only names and figures ("India, Egypt, and China."), says what the
  question asks of them, so the question's content words stand in for its own: "Which
  countries are allies worried by the war?" is not answered by a line that names the
  three as buyers only;
* each of its clauses is negated exactly when the cited clause that best matches it is;
* a figure the cited lines hedge ("more than 450", "nearly two-thirds") is hedged in the
  sentence too: "India bought 450" is not what "more than 450" says;
* each of its figures (written with digits) stands with its names: a cited clause that
  holds the figure either names everything the sentence binds to it or names nothing the
  sentence does not. "India has purchased more than 450 and Algeria has also bought T-90
  tanks" holds 450 and Algeria, but 450 is India's: "Algeria bought 450 T-90 tanks" fails
  against it. A sentence that is one of the cited sentences word for word binds nothing
  anew and is not checked for it.
Its precision and recall are measured by ``benchmarks/verifier.py`` on hand-written
sentences and on real model sentences labelled by reading their cited lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.language.sentences import clauses, sentence_spans
from rag.language.words import BASE, STOPWORDS, comparable, is_number, number_form, words

__all__ = ["MIN_CONTENT", "Support", "names", "sentence_support"]

MIN_CONTENT = 0.75
# Words that frame a claim ("the sources differ", "according to") without being one.
_FRAMING = {"source", "sources", "differ", "differs", "disagree", "disagrees", "report",
            "reports", "reported", "article", "articles", "state", "states", "stated"}
_NEGATIONS = {"not", "no", "never", "none", "neither", "nor", "without", "cannot", "nothing",
              "n't", "unable", "failed", "denied", "refused"}
_TOKEN = re.compile(r"[\w’'-]+")
# A yes/no answer's particle before its claim: "No: uploads must be binary."
_ANSWER_PARTICLE = re.compile(r"^\s*(?:no|yes)\b\s*[,:;.—–-]\s*", re.I)
# Python's None as a value: "`None`", or "None" inside a sentence ("or None to allow").
_NONE_VALUE = re.compile(r"`None`|(?<=[\w,(] )None\b")
_CODE_SPAN = re.compile(r"`[^`]*`")
_RUN = 3  # cited clauses a sentence clause may be matched with at once
# Where reported speech starts inside a clause: "X said (that) ...", "X says ...".
_REPORTED = re.compile(r"\b(?:said|says|told|added|stated|noted)\b(?:\s+that\b)?|\bthat\b")
# Words that hedge a figure: "more than 450", "nearly 500", "up to 60".
_HEDGE = re.compile(r"\b(?:more than|over|nearly|almost|about|around|roughly|some|up to|"
                    r"at least|less than|fewer than|under|approximately)\s+$", re.I)
# Words that scraped text glues to the name before them.
_GLUED = ("who", "which", "whose", "and", "the", "said", "says")
# Capitalised words in a row, joined by "of", "the", "and" or "for" at most.
_CAPITALISED_RUN = re.compile(
    r"\b[A-Z][\w’'-]*(?:\s+(?:(?:of|the|and|for)\s+)?[A-Z][\w’'-]*)+")


@dataclass(frozen=True)
class Support:
    supported: bool
    reasons: list[str] = field(default_factory=list)


def sentence_support(sentence: str, quotes: list[str], question: str = "") -> Support:
    """Whether ``quotes`` (the cited lines) support ``sentence``; reasons when not.
    ``question``: what the sentence answers, whose words an elliptical answer claims."""
    if not quotes:
        return Support(False, ["cites nothing"])
    evidence = " \n ".join(quotes)
    form = BASE.form
    have = {comparable(w) for w in words(evidence)}
    reasons = []
    sentence_words = words(sentence)
    numbers = [w for w in sentence_words if is_number(w)]
    if missing := [n for n in numbers if number_form(n) not in have]:
        reasons.append(f"numbers not in the cited lines: {', '.join(missing)}")
    named = names(sentence)
    if missing := [n for n in named if not _name_in(n, have, evidence)]:
        reasons.append(f"names not in the cited lines: {', '.join(missing)}")
    content = _content(sentence_words, named)
    if question and not _content(sentence_words, [*named, _first(sentence)]):
        content = _content(words(question), [*names(question), _first(question)])
    if content:
        found = sum(form(w) in have for w in content)
        if found / len(content) < MIN_CONTENT:
            absent = [w for w in content if form(w) not in have]
            reasons.append(f"words not in the cited lines: {', '.join(absent[:8])}")
    claim = _ANSWER_PARTICLE.sub("", sentence)  # "No: X" claims X; the "No" answers
    if any(_negation_differs(claim[a:b], quotes) for a, b in clauses(claim)):
        reasons.append("negation differs from the cited lines")
    if not reasons and not _quoted_whole(sentence, quotes):
        figures = [n for n in numbers if any(c.isdigit() for c in n)]
        reasons.extend(_unbound_figures(sentence, figures, quotes))
    if not reasons and (unhedged := _unhedged(sentence, numbers, quotes)):
        reasons.append(f"the cited lines hedge {', '.join(unhedged)} ('more than', 'nearly'...)")
    return Support(not reasons, reasons)


def _name_in(name: str, have: set[str], evidence: str) -> bool:
    """Whether the cited lines hold a name: its words, as its abbreviation, or glued to
    the next word by scraped text (looked for only when the first two fail)."""
    forms = {comparable(w) for w in words(name)}
    return forms <= have or _abbreviates(name, evidence) or forms <= have | _unglued(evidence)


def _unglued(evidence: str) -> set[str]:
    """Names the text glued to the word after them, as scraped text does ("Li
    Zhanshuwho is..."): the name, in its comparable form."""
    out: set[str] = set()
    for token in _TOKEN.findall(evidence):
        low = token.lower()
        if token[0].isupper() and low.isalpha():
            out.update(comparable(low[: -len(glue)]) for glue in _GLUED
                       if low.endswith(glue) and len(low) - len(glue) >= 4)
    return out


def _content(tokens: list[str], named: list[str]) -> list[str]:
    """The words that say something: not stopwords, figures, negations, framing, names."""
    skip = {n.lower() for n in named}
    return [w for w in tokens if w not in STOPWORDS and not is_number(w)
            and w not in _NEGATIONS and w not in _FRAMING and w.lower() not in skip]


def _first(text: str) -> str:
    """The first word, a name if capitalised ("Putin said..."): ``names`` skips it."""
    found = _TOKEN.search(text)
    return found.group(0) if found and found.group(0)[0].isupper() else ""


def _unhedged(sentence: str, numbers: list[str], quotes: list[str]) -> list[str]:
    """Figures every cited mention of which is hedged, while the sentence states them
    bare."""
    out = []
    for number in dict.fromkeys(n for n in numbers if any(c.isdigit() for c in n)):
        said = _mentions(sentence, number)
        cited = [m for quote in quotes for m in _mentions(quote, number)]
        if said and cited and all(cited) and not any(said):
            out.append(number)
    return out


def _mentions(text: str, number: str) -> list[bool]:
    """Whether each mention of ``number`` in ``text`` comes hedged."""
    digits = re.escape(number).replace(",", ",?")
    return [bool(_HEDGE.search(text[max(0, m.start() - 14) : m.start()]))
            for m in re.finditer(rf"(?<![\w.,]){digits}(?![\w]|[.,]\d)", text.replace(",", ""))]


def _quoted_whole(sentence: str, quotes: list[str]) -> bool:
    """Whether the sentence is one of the cited lines' sentences, word for word."""
    wanted = words(sentence)
    return any(words(line[a:b]) == wanted
               for quote in quotes for line in quote.split("\n")
               for a, b in sentence_spans(line))


def _abbreviates(token: str, evidence: str) -> bool:
    """Whether an acronym ("IAEA") spells the initials of capitalised words of the
    evidence ("International Atomic Energy Agency")."""
    if not (len(token) >= 2 and token.isupper() and token.isalpha()):
        return False
    for run in _CAPITALISED_RUN.finditer(evidence):
        initials = "".join(w[0] for w in run.group(0).split() if w[0].isupper())
        if token in initials:
            return True
    return False


def names(sentence: str) -> list[str]:
    """Capitalised words after the first, acronyms and codes such as T-90."""
    found = []
    for i, match in enumerate(_TOKEN.finditer(sentence)):
        token = match.group(0)
        is_code = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        if is_code or (i > 0 and token[0].isupper() and token.lower() not in STOPWORDS):
            found.append(token)
    return found


def _unbound_figures(
    sentence: str, numbers: list[str], quotes: list[str]
) -> list[str]:
    """A reason for each figure of the sentence that no cited clause binds to its names.

    A clause holding the figure binds it when it names all the sentence's names, or
    names nothing the sentence does not ("with more than 50,000 troops taking part" binds
    50,000 to whatever its sentence is about). One that names someone else and lacks one
    of the sentence's names gives the figure to someone else.
    """
    if not numbers:
        return []
    lowered = {t.lower() for t in _TOKEN.findall(" ".join([sentence, *quotes])) if t[0].islower()}
    wanted = set().union(*(n for _, n in _names_by_clause(sentence, lowered, whole=True)))
    if not wanted:
        return []
    units = [unit for quote in quotes for line in quote.split("\n")
             for unit in _names_by_clause(line, lowered)]
    reasons = []
    for number in dict.fromkeys(numbers):
        figure = number_form(number)
        holding = [found for clause_words, found in units if figure in clause_words]
        if holding and not any(wanted <= found or found <= wanted for found in holding):
            others = sorted(set().union(*holding) - wanted)
            lacking = sorted(wanted - set().union(*holding))
            reasons.append(
                f"{number} stands with {', '.join(others)} in the cited lines, not with "
                f"{', '.join(lacking or sorted(wanted))}"
            )
    return reasons


def _names_by_clause(
    text: str, lowered: set[str], whole: bool = False
) -> list[tuple[set[str], set[str]]]:
    """For each clause of ``text`` (each sentence, with ``whole``): the number forms of
    its words and the forms of its names. Codes and figures are not names here (not whom
    a figure belongs to); a capitalised word that opens a sentence is one unless the texts
    also use it in lower case ("Delegations" vs "delegations")."""
    form = BASE.form
    out = []
    for first, last in sentence_spans(text):
        for a, b in [(0, last - first)] if whole else clauses(text[first:last]):
            clause_words: set[str] = set()
            clause_names: set[str] = set()
            for match in _TOKEN.finditer(text, first + a, first + b):
                token = match.group(0)
                clause_words.update(comparable(w) for w in words(token))
                if any(c.isdigit() for c in token):
                    continue
                opening = match.start() == first
                if token[0].isupper() and token.lower() not in STOPWORDS and not (
                    opening and token.lower() in lowered
                ):
                    clause_names.add(form(token))
            out.append((clause_words, clause_names))
    return out


def _negation_differs(part: str, quotes: list[str]) -> bool:
    """Whether a clause of the sentence and the cited clauses it matches differ in
    saying "not". A negated clause needs a negation there; a plain one is contradicted
    only by a negation of a word it uses (see ``_negated``'s ``about``)."""
    cited = _best_clause(part, quotes)
    if _negated(part):
        return not _negated(cited)
    return _negated(cited, about=part)


def _negated(text: str, about: str | None = None) -> bool:
    """Whether the text says "not": a negation word or a contraction ("don't"). Code is
    no negation: the value ``None`` (capitalised inside a sentence, or in backticks),
    anything in backticks, a flag such as ``--no-use-colors``. With ``about`` (the
    sentence a cited clause is compared with), a negation counts only when the word it
    negates, the first content word after it, is one ``about`` uses: "if *no new data*
    is received" says nothing against "it is set in seconds"."""
    text = _CODE_SPAN.sub(" ", _NONE_VALUE.sub(" ", text.replace("’", "'"))).lower()
    tokens = re.findall(r"[a-z]+n't|[a-z]+(?:-[a-z]+)*", text)
    used = None if about is None else {BASE.form(w) for w in words(about)}
    for n, token in enumerate(tokens):
        if token not in _NEGATIONS and not token.endswith("n't"):
            continue
        negated = next((w for w in tokens[n + 1:] if w not in STOPWORDS
                        and w not in _NEGATIONS), None)
        if used is None or negated is None or BASE.form(negated) in used:
            return True
    return False


def _best_clause(sentence: str, quotes: list[str]) -> str:
    """The run of cited clauses (one to ``_RUN``, of one sentence) that shares most words
    with ``sentence``: of runs sharing as many, the shortest. A clause that reports
    speech is cut where the report starts ("Chemezov, head of Rostech, said | that
    exports had not fallen"), so the negation of what was said is not laid on who said
    it; a sentence clause that says what two cited clauses say ("They don't support
    is_ok, since the naming is ambiguous and...") is matched with both."""
    wanted = {BASE.form(w) for w in words(sentence) if w not in STOPWORDS}
    best, best_key = "", (-1, 0)
    for quote in quotes:
        for line in quote.split("\n"):
            for a, b in sentence_spans(line):
                text = line[a:b]
                pieces = [piece for c, d in clauses(text) for piece in _REPORTED.split(text[c:d])]
                for first in range(len(pieces)):
                    for last in range(first + 1, min(first + _RUN, len(pieces)) + 1):
                        run = " ".join(pieces[first:last])
                        said = words(run)
                        key = (len(wanted & {BASE.form(w) for w in said}), -len(said))
                        if key > best_key:
                            best, best_key = run, key
    return best
