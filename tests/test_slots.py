"""Where an answer of a given kind can sit in a sentence (rag/language/figures.py), and
where a clause starts (rag/language/sentences.py)."""

from __future__ import annotations

import pytest

from rag.language.figures import DATE, NUMBER, find_slots
from rag.language.sentences import clauses


@pytest.mark.parametrize(
    ("sentence", "dates"),
    [
        ("In July, Egypt bought 500 Russian T-90 tanks.", ["July"]),
        ("More than 50,000 soldiers took part in 2022.", ["2022"]),
        # Years before 1500 need a word of time before them (SQuAD's history articles).
        ("Edward returned from his refuge in 1041, at the invitation of Harthacnut.",
         ["in 1041"]),
        ("A technology invented in the 12th century.", ["12th century"]),
        ("Recorded in Medieval Latin, 9th century.", ["9th century"]),
        ("Russia sent 1200 soldiers in 1200 trucks.", []),
        # Times of day, for "what time" questions.
        ("The parade starts at 5 pm and the fireworks at 21:30.", ["5 pm", "21:30"]),
        ("Doors open at 9 a.m. sharp, and close at noon.", ["9 a.m", "noon"]),
        ("He scored 5 points in 30 minutes.", []),
    ],
)
def test_dates(sentence: str, dates: list[str]) -> None:
    assert [s.text for s in find_slots(sentence, DATE)] == dates


def test_a_count_is_not_taken_for_an_early_year() -> None:
    found = find_slots("Russia sent 1200 soldiers in 1200 trucks.", NUMBER)
    assert [(s.text, s.unit) for s in found] == [("1200", "soldiers"), ("1200", "trucks")]


def test_a_year_is_not_a_count() -> None:
    assert find_slots("In 1041, he came back with 40 ships.", NUMBER)[0].text == "40"


def test_the_question_does_not_answer_itself() -> None:
    found = find_slots("How many T-90 tanks did Egypt buy? It bought 500.", NUMBER,
                       frozenset({"90"}))
    assert [s.text for s in found] == ["500"]


def test_each_subject_gets_its_own_clause() -> None:
    sentence = "India has purchased more than 450 and Algeria has also bought T-90 tanks"
    assert [sentence[a:b] for a, b in clauses(sentence)] == [
        "India has purchased more than 450", "Algeria has also bought T-90 tanks"]
