"""Where an answer sits in its sentence (rag/language/placement.py), pinned on the news
examples its docstrings give: a place after "in" answers "where", a figure counts the
asked thing and sits in the clause of the question's subject (India's 450 is not
Algeria's), a person's name follows a title or the asked noun, a reason has a causal word.
Slots come from ``find_slots`` and questions from ``analyze_question``, as the checker and
the extractive backend make them; pure functions, no index."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from rag.answer.vocabulary import NEWS
from rag.language.figures import NAME, NUMBER, Slot, find_slots
from rag.language.placement import (
    Similarity,
    after_locative,
    after_title,
    counts_asked,
    exact_similarity,
    gives_reason,
    groups_named,
    in_subject_clauses,
    listed_with_others,
    names_fitting,
    near_target,
    person_like,
    target_positions,
    well_placed,
)
from rag.language.questions import analyze_question

INDIA_ALGERIA = ("India has purchased more than 450 and Algeria has also bought T-90 tanks, "
                 "making them the most advanced military vehicle found in Africa.")
ALGERIA = "Algeria bought 300 T-90 tanks in 2006."
PESKOV = "The Kremlin spokesman, Dmitry Peskov, said Sergei Shoigu opened the forum."
WHICH_MINISTER = "Which minister opened the forum?"


def slot(sentence: str, text: str, kind: str = NAME) -> Slot:
    """The slot of ``kind`` in ``sentence`` whose text is ``text``."""
    found = [s for s in find_slots(sentence, kind) if s.text == text]
    assert found, f"no {kind} slot {text!r} in {sentence!r}: {find_slots(sentence, kind)}"
    return found[0]


def texts(slots: list[Slot]) -> list[str]:
    return [s.text for s in slots]


@pytest.mark.parametrize(
    ("sentence", "name", "expected"),
    [
        # "in Moscow": a place answers "where".
        ("Putin met the delegates in Moscow on Tuesday.", "Moscow", True),
        # The same city as the sentence's subject is not said to be where.
        ("Moscow hosted the delegates, Putin said.", "Moscow", False),
        # A name after a verb, not a preposition of place.
        ("The delegates met Sergei Shoigu.", "Sergei Shoigu", False),
    ],
)
def test_after_locative_takes_a_name_after_a_preposition_of_place(
    sentence: str, name: str, expected: bool
) -> None:
    assert after_locative(sentence, slot(sentence, name)) is expected


@pytest.mark.parametrize(
    ("sentence", "term", "expected"),
    [
        # One of three names in a list.
        ("Russia sold T-90 tanks to India, China and Egypt.", "india", True),
        # Two names joined by "and".
        ("India and Algeria bought T-90 tanks.", "algeria", True),
        # Named alone, with other names elsewhere in the sentence.
        ("India bought 450 tanks, and so did Egypt.", "india", False),
    ],
)
def test_listed_with_others_finds_a_name_in_a_list(
    sentence: str, term: str, expected: bool
) -> None:
    assert listed_with_others(sentence, term) is expected


def test_listed_with_others_compares_in_the_vocabulary_forms() -> None:
    """With the news aliases, "Moscow" in a list stands for Russia; the base vocabulary
    has no such alias."""
    sentence = "Moscow, Beijing and Delhi signed the deal."
    assert listed_with_others(sentence, NEWS.form("Russia"), NEWS)
    assert not listed_with_others(sentence, NEWS.form("Russia"))


@pytest.mark.parametrize(
    ("sentence", "named", "expected"),
    [
        # India's 450 is in India's clause, not Algeria's.
        (INDIA_ALGERIA, {"algeria"}, []),
        (INDIA_ALGERIA, {"india"}, ["450"]),
        # No name asked: every slot stays.
        (INDIA_ALGERIA, set(), ["450"]),
        # One clause: nothing to choose between, every slot stays.
        (ALGERIA, {"egypt"}, ["300"]),
    ],
)
def test_in_subject_clauses_keeps_the_slots_of_the_subjects_clause(
    sentence: str, named: set[str], expected: list[str]
) -> None:
    slots = find_slots(sentence, NUMBER, frozenset({"t-90"}))
    assert texts(in_subject_clauses(sentence, slots, named)) == expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # A person asked: the agency is dropped, the people stay.
        ("Who opened the forum?", "The Defence Ministry and Sergei Shoigu opened the forum.",
         ["Sergei Shoigu"]),
        # The asked noun is there: only the name near it.
        (WHICH_MINISTER, "The forum was opened by Sergei Shoigu, the defence minister.",
         ["Sergei Shoigu"]),
        # The asked noun is there but far from every name: none fits.
        (WHICH_MINISTER, "Sergei Shoigu spoke first at the opening of the forum, and later "
         "in the afternoon the minister left.", []),
        # No asked noun in the sentence: the people all stay.
        (WHICH_MINISTER, PESKOV, ["Dmitry Peskov", "Sergei Shoigu"]),
    ],
)
def test_names_fitting_keeps_people_near_the_asked_noun(
    question: str, sentence: str, expected: list[str]
) -> None:
    info = analyze_question(question)
    slots = find_slots(sentence, NAME, frozenset(info.focus))
    assert texts(names_fitting(sentence, slots, info)) == expected


def test_target_positions_are_where_the_asked_noun_stands() -> None:
    """Each place the asked noun's form stands; none for a question without one."""
    sentence = "The minister met the ministers of two neighbours."
    assert target_positions(sentence, analyze_question(WHICH_MINISTER)) == [4, 21]
    assert target_positions(sentence, analyze_question("Who opened the forum?")) == []


@pytest.mark.parametrize(
    ("sentence", "name", "near", "placed"),
    [
        # The asked noun right after the name.
        ("The forum was opened by Sergei Shoigu, the defence minister.", "Sergei Shoigu",
         True, True),
        # The asked noun 73 characters on: not near (60 at most).
        ("Sergei Shoigu spoke first at the opening of the forum, and later in the "
         "afternoon the minister left.", "Sergei Shoigu", False, False),
        # No asked noun, but a title just before: well placed.
        (PESKOV, "Dmitry Peskov", False, True),
    ],
)
def test_near_target_and_well_placed(
    sentence: str, name: str, near: bool, placed: bool
) -> None:
    info = analyze_question(WHICH_MINISTER)
    found = slot(sentence, name)
    assert near_target(sentence, found, info) is near
    assert well_placed(sentence, found, info) is placed


@pytest.mark.parametrize(
    ("sentence", "name", "titled", "person"),
    [
        # "the spokesman, Dmitry Peskov": a title, a comma, two words.
        (PESKOV, "Dmitry Peskov", True, True),
        # One word after a title is a person.
        ("The talks were led by defence minister Shoigu.", "Shoigu", True, True),
        # One word after no title is not.
        ("Shoigu met the minister.", "Shoigu", False, False),
        # Two words, a title in the slot itself ("President Putin" is a person's name).
        ("President Putin met the delegates.", "President Putin", False, True),
        # Two words, one of them an organisation's: a forum.
        ("President Putin met the Economic Forum.", "Economic Forum", False, False),
    ],
)
def test_after_title_and_person_like(
    sentence: str, name: str, titled: bool, person: bool
) -> None:
    found = slot(sentence, name)
    assert after_title(sentence, found) is titled
    assert person_like(sentence, found) is person


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rostec was sanctioned because of the war.", True),
        ("Rostec was criticized for supplying arms.", True),
        # No causal word: what happened, not why.
        ("Rostec sells tanks to India.", False),
    ],
)
def test_gives_reason_needs_a_causal_word(text: str, expected: bool) -> None:
    assert gives_reason(text) is expected


@pytest.mark.parametrize(
    ("wanted", "present", "expected"),
    [
        (["troops"], ["troop"], 1.0),  # the same form
        (["troops"], ["soldiers"], 0.0),  # near in meaning, not in form
    ],
)
def test_exact_similarity_compares_forms(
    wanted: list[str], present: list[str], expected: float
) -> None:
    assert exact_similarity(wanted, present) == expected


@pytest.mark.parametrize(
    ("question", "sentence", "number", "expected"),
    [
        # The counted noun itself.
        ("How many troops are taking part in Vostok-2022?", "About 50,000 troops took part.",
         "50,000", True),
        # Another noun: 70 countries are not visitors.
        ("How many visitors came to Army-2022?", "Delegations from more than 70 countries "
         "are attending Army-2022 to take advantage of good deals on Russian kit.", "70",
         False),
        # A bare number, "times" and "twice" count anything.
        ("How many troops are taking part in Vostok-2022?", "The count was 50,000.",
         "50,000", True),
        ("How many troops are taking part in Vostok-2022?",
         "The drills have been held 4 times since 2010.", "4", True),
        ("How many troops are taking part in Vostok-2022?", "Russia held the drills twice.",
         "twice", True),
    ],
)
def test_counts_asked_takes_a_number_of_the_asked_thing(
    question: str, sentence: str, number: str, expected: bool
) -> None:
    info = analyze_question(question)
    found = slot(sentence, number, NUMBER)
    assert counts_asked(sentence, found, info.target_phrase) is expected


def test_counts_asked_takes_a_near_noun_at_the_least_similarity() -> None:
    """"50,000 soldiers" counts "troops" when the similarity says the words are near, at
    ``least`` and above, not below it."""
    sentence = "More than 50,000 soldiers are taking part in Vostok-2022."
    found = slot(sentence, "50,000", NUMBER)
    said: list[tuple[list[str], list[str]]] = []

    def similarity(value: float) -> Similarity:
        def similar(wanted: Sequence[str], present: Sequence[str]) -> float:
            said.append((list(wanted), list(present)))
            return value

        return similar

    assert not counts_asked(sentence, found, ["troops"])  # exact: different words
    assert counts_asked(sentence, found, ["troops"], similarity(0.45))
    assert not counts_asked(sentence, found, ["troops"], similarity(0.44))
    # The words the number counts stop at the clause's verb ("are taking part").
    assert said[0] == (["troops"], ["soldiers"])


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # A demonym and a noun for people.
        ("The company evacuated its Ukrainian staff.", ["Ukrainian staff"]),
        # ... with one word between.
        ("Russian military analysts doubt the figures.", ["Russian military analysts"]),
        # A demonym before a thing, not people.
        ("Russian tanks rolled in.", []),
    ],
)
def test_groups_named_finds_people_named_by_where_they_are_from(
    sentence: str, expected: list[str]
) -> None:
    assert texts(groups_named(sentence)) == expected
