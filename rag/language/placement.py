"""Where an answer sits in its sentence, relative to what the question asks: near the
asked noun ("the *spokesman*, Dmitry Peskov"), after a preposition of place for "where",
in the clause that names the question's subject, a person's name and not an agency's.
Pure functions of the sentence, a slot (``figures.py``) and the parsed question, shared
by the checker and the extractive backend; names are compared in ``vocab``'s forms."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.language.figures import Slot, unit_words
from rag.language.questions import QuestionInfo
from rag.language.sentences import clauses
from rag.language.words import BASE, STOPWORDS, Vocabulary, words

__all__ = [
    "Similarity", "after_locative", "after_title", "counts_asked", "exact_similarity",
    "gives_reason", "groups_named", "in_subject_clauses", "listed_with_others", "names_fitting",
    "near_target", "person_like", "target_positions", "well_placed",
]

# The best similarity between any of some words and any of others, 0 to 1: exact forms
# (``exact_similarity``), or word vectors (the extractive backend's ``WordVectors.best``).
Similarity = Callable[[Sequence[str], Sequence[str]], float]

# Words that give a reason; a "why" question is not answered by a sentence without one.
CAUSAL = re.compile(
    r"\b(because|due to|as a result|so that|in order to|thanks to|owing to|amid|caus\w*|"
    r"led to|leading to|forcing|in response|reasons?|purpose|aim(?:s|ed)? (?:at|to)|"
    r"(?:sanction\w*|punish\w*|blam\w*|criticiz\w*|criticis\w*) for|for the|"
    r"could make|would make|makes? it)\b", re.IGNORECASE)
# Prepositions of place: a name after one answers "where".
LOCATIVE = {"in", "at", "near", "outside", "to", "from", "into", "inside", "across", "around",
            "towards", "toward", "via", "on", "off", "within", "through"}
# Words before a person's name ("President Putin", "the spokesman, Dmitry Peskov").
TITLES = {"minister", "president", "leader", "spokesperson", "spokesman", "head", "chief",
          "lawmaker", "chair", "secretary-general", "general", "director", "official",
          "prime", "king", "queen", "mr", "mrs", "ms", "dr", "senator", "governor"}
# Words that make a capitalised name an organisation, a place or a thing.
NOT_PERSON = {"forum", "centre", "center", "congress", "agency", "institute", "exhibition",
              "council", "committee", "ministry", "union", "republic", "republics", "sea",
              "times", "news", "energy", "international", "economic", "peace", "research",
              "act", "states", "party", "army", "navy", "forces", "group", "bank", "company",
              "university", "court", "media", "station", "plant", "war", "day", "north",
              "south", "east", "west"}


def after_locative(sentence: str, slot: Slot) -> bool:
    """Whether a name follows "in", "at", "near"...: "where" is answered by a place."""
    before = words(sentence[max(0, slot.start - 25) : slot.start])[-3:]
    return any(w in LOCATIVE for w in before)


def listed_with_others(sentence: str, term: str, vocab: Vocabulary = BASE) -> bool:
    """Whether ``term`` is one name in a list ("India, China and Egypt")."""
    for match in re.finditer(r"[A-Z][\w’'-]*(?:(?:,\s*|\s+and\s+)[A-Z][\w’'-]*)+", sentence):
        if term in {vocab.form(w) for w in words(match.group(0))}:
            return True
    return False


def in_subject_clauses(
    sentence: str, slots: list[Slot], named: set[str], vocab: Vocabulary = BASE
) -> list[Slot]:
    """Slots in a clause that names one of the question's names, when there is one."""
    names = {t for t in named if not t.replace(".", "").isdigit()}
    spans = clauses(sentence)
    if not names or len(spans) < 2:
        return slots
    subject = [(a, b) for a, b in spans if vocab.forms(words(sentence[a:b])) & names]
    return [s for s in slots if any(a <= s.start < b for a, b in subject)]


def names_fitting(
    sentence: str, slots: list[Slot], info: QuestionInfo, vocab: Vocabulary = BASE
) -> list[Slot]:
    """Name slots that fit: people when a person is asked, near the asked noun if present."""
    if info.person:
        slots = [s for s in slots if person_like(sentence, s)]
    near = [s for s in slots if near_target(sentence, s, info, vocab)]
    return near if near else ([] if target_positions(sentence, info, vocab) else slots)


def target_positions(sentence: str, info: QuestionInfo, vocab: Vocabulary = BASE) -> list[int]:
    if not info.target:
        return []
    return [
        m.start() for m in re.finditer(r"[\w’'-]+", sentence)
        if vocab.form(m.group(0)) == info.target
    ]


def near_target(sentence: str, slot: Slot, info: QuestionInfo, vocab: Vocabulary = BASE) -> bool:
    return any(abs(slot.start - at) <= 60 for at in target_positions(sentence, info, vocab))


def well_placed(sentence: str, slot: Slot, info: QuestionInfo, vocab: Vocabulary = BASE) -> bool:
    return near_target(sentence, slot, info, vocab) or after_title(sentence, slot)


def person_like(sentence: str, slot: Slot) -> bool:
    parts = slot.text.split()
    if any(part.lower().strip("’'") in NOT_PERSON for part in parts):
        return False
    return len(parts) >= 2 or after_title(sentence, slot)


def after_title(sentence: str, slot: Slot) -> bool:
    """Whether the word just before the slot is a title: "President Putin"."""
    before = words(sentence[max(0, slot.start - 30) : slot.start])
    return bool(before) and before[-1] in TITLES


def gives_reason(text: str) -> bool:
    """Whether ``text`` has a word that gives a reason ("because", "due to", "amid"...)."""
    return bool(CAUSAL.search(text))


def exact_similarity(
    wanted: Sequence[str], present: Sequence[str], vocab: Vocabulary = BASE
) -> float:
    """1 when one of ``wanted`` has the form of one of ``present``, else 0."""
    return 1.0 if {vocab.form(w) for w in wanted} & {vocab.form(w) for w in present} else 0.0


def counts_asked(
    text: str,
    slot: Slot,
    counted: Sequence[str],
    similar: Similarity = exact_similarity,
    least: float = 0.45,
    vocab: Vocabulary = BASE,
) -> bool:
    """Whether the number at ``slot`` counts the asked thing (``counted``, the question's
    words after "how many"): "50,000 soldiers" for "troops", not "70 countries" for
    "visitors". A bare number, "times", "once" and "twice" count anything."""
    units = [u for u in _counted_phrase(unit_words(text, slot)) if u not in STOPWORDS]
    if not units or units[0] == "times" or slot.text.lower() in {"once", "twice"}:
        return True
    wanted = [w for w in counted if not w[0].isdigit()]
    if {vocab.form(u) for u in units} & {vocab.form(w) for w in wanted}:
        return True
    return similar(wanted, units) >= least


# Words that end the phrase a number counts: its clause's verb begins ("70 countries *are*
# attending": the 70 counts countries, not those attending), or a coordinator starts the
# next item ("140 aircraft *and* 60 warships": the 140 counts aircraft only).
_PHRASE_END = frozenset("""am is are was were be been being has have had will would shall
    should can could may might must do does did to that which who whom whose where when
    while and or but""".split())


def _counted_phrase(units: Sequence[str]) -> list[str]:
    """The words after a number up to its clause's verb: what it counts."""
    out: list[str] = []
    for word in units:
        if word in _PHRASE_END:
            break
        out.append(word)
    return out


# Nouns for a group of people: "its *Ukrainian staff*" says who, as a name would.
_GROUPS = frozenset("""staff workers employees engineers technicians crew crews personnel
    troops soldiers forces officers officials diplomats lawmakers authorities experts
    analysts scientists specialists inspectors volunteers residents citizens people
    nationals operators""".split())


def groups_named(sentence: str, vocab: Vocabulary = BASE) -> list[Slot]:
    """Groups of people named by where they are from: a demonym and a noun for people,
    perhaps one word between ("its Ukrainian staff", "Russian military analysts")."""
    found = []
    for match in re.finditer(r"\b([A-Z][a-z]+)\s+(?:[a-z]+\s+)?([a-z]+)\b", sentence):
        if match.group(1).lower() in vocab.places and match.group(2) in _GROUPS:
            found.append(Slot(match.start(), match.end(), match.group(0)))
    return found
