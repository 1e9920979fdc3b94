"""Whether a sentence answers the question (rag/verify/relevance.py), pinned on the cases
the checks issue (27) names: what the checks get right and must keep, and what they get
wrong today (strict xfail: a fix turns them into failures to remove the mark from)."""

from __future__ import annotations

import pytest

from rag.verify import answers_question

FLEET = "The harbour fleet has 12 ferries."


@pytest.mark.parametrize(
    ("question", "sentence", "line", "why"),
    [
        # Supported, on topic, but not what was asked: no money for a price.
        ("What does a ferry ticket cost?", FLEET, FLEET, "holds no money"),
        # A count's qualifier the lines never say.
        ("How many ferries run at night in winter?", "Four of the ferries run at night.",
         "Four of the ferries run at night.", "winter"),
        # The asked subject missing from the lines.
        ("How many ferries does the Oslo fleet have?", FLEET, FLEET, "oslo"),
        # A "why" with no reason given.
        ("Why does the fleet have 12 ferries?", FLEET, FLEET, "reason"),
    ],
)
def test_a_sentence_that_does_not_answer_is_refused(
    question: str, sentence: str, line: str, why: str
) -> None:
    problems = answers_question(question, sentence, [line])
    assert problems, question
    assert why in " ".join(problems).lower()


@pytest.mark.parametrize(
    ("question", "sentence", "line"),
    [
        ("How many ferries does the harbour fleet have?", FLEET, FLEET),
        ("When did the bridge open?", "The bridge opened on September 3, 1998.",
         "The bridge opened on September 3, 1998."),
        ("Who opened the bridge?", "Mayor Anna Berg opened the bridge.",
         "Mayor Anna Berg opened the bridge in 1998."),
    ],
)
def test_a_sentence_that_answers_passes(question: str, sentence: str, line: str) -> None:
    assert answers_question(question, sentence, [line]) == []


@pytest.mark.xfail(strict=True, reason="issue 27: the asked words must appear in the lines")
@pytest.mark.parametrize(
    ("question", "sentence", "line"),
    [
        ("How big is the harbour fleet?", FLEET, FLEET),
        ("What is the oldest Node release the CLI still runs on?", "The CLI requires Node 18+.",
         "The CLI requires Node 18+."),
        ("Can I stop the client from following redirects for one call?",
         "Pass follow_redirects=False to the call.",
         "Redirects are followed unless you pass `follow_redirects=False` to the request "
         "method."),
    ],
)
def test_a_paraphrased_answer_passes(question: str, sentence: str, line: str) -> None:
    assert answers_question(question, sentence, [line]) == []
