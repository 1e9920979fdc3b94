"""Whether a sentence answers the question (rag/verify/relevance.py), pinned on the cases
the checks issue (27) names: what the checks get right and must keep, and what they get
wrong today (strict xfail: a fix turns them into failures to remove the mark from)."""

from __future__ import annotations

import pytest

from rag.answer.llm.checking import Checker
from rag.answer.llm.context import SourceLine
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
        # ... and what the question sentence asks must still be spoken of.
        ("I created an async client without a context manager. How do I shut it down "
         "properly?", "The client uses a connection pool.",
         "The client uses a connection pool.", "shut"),
        # A count is no duration, whatever follows it.
        ("How long does the crossing take?", FLEET, FLEET, "duration"),
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
        # Units as settings write them are durations: "600s", "5 min", "250 ms".
        ("How long are cached pages kept by default?",
         "By default, cached pages are kept for 600s.",
         "`cache_ttl`, the lifetime of a cached page, or `None` to never expire. "
         "(Default 600s)"),
        ("How long does a session last?", "A session lasts 5 min.",
         "A session lasts 5 min unless renewed."),
        # A scene set before the question is why the user asks, not what the lines
        # must speak of: the question sentence is what is asked.
        ("My shell sets a proxy for everything, and one old script breaks. How do I close "
         "the client properly?", "Close the client with client.close().",
         "Close the client properly with `client.close()`."),
        # A month's abbreviation is the month: "Sept. 3" is "September 3".
        ("When did the bridge open?", "The bridge opened on Sept. 3, 1998.",
         "The bridge opened on September 3, 1998."),
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


def _checker(question: str, line: str, judge_at: float, said: list[str],
             judge_below: float = 0.0, gives: float = 0.9) -> Checker:
    def judge(asked: str, sentence: str, cited: str) -> float:
        said.append(f"{sentence} -> {cited}")
        return gives

    return Checker({"S1": SourceLine("S1", "fleet.txt", 1, line)}, question, judge=judge,
                   judge_at=judge_at, judge_below=judge_below)


def test_the_judge_overrules_only_the_word_check() -> None:
    """A judge that reads paraphrase may pass a sentence whose lines lack the question's
    words (at its threshold, not below); it is never asked about a missing figure."""
    said: list[str] = []
    checker = _checker("How big is the harbour fleet?", FLEET, 0.8, said)
    assert checker.sentence(FLEET, ["S1"]).passed
    assert said == [f"{FLEET} -> {FLEET}"]  # the sentence and its cited line
    strict = _checker("How big is the harbour fleet?", FLEET, 0.95, said)
    assert not strict.sentence(FLEET, ["S1"]).passed
    said.clear()
    price = _checker("What does a ferry ticket cost?", FLEET, 0.0, said)
    checked = price.sentence(FLEET, ["S1"])
    assert not checked.passed
    assert said == []  # no money in the lines: the typed check stands, unasked


def test_the_judge_may_drop_what_the_word_checks_pass() -> None:
    """Below ``judge_below`` a sentence every word check passes is dropped, and said to
    be the judge's call; at or above it, it stands."""
    said: list[str] = []
    asked = "How many ferries does the harbour fleet have?"
    doubted = _checker(asked, FLEET, 0.5, said, judge_below=0.2, gives=0.1)
    checked = doubted.sentence(FLEET, ["S1"])
    assert not checked.passed
    assert "answer judge" in " ".join(checked.problems)
    assert _checker(asked, FLEET, 0.5, said, judge_below=0.2, gives=0.3).sentence(
        FLEET, ["S1"]).passed


def test_what_another_backend_wrote_is_judged_by_the_same_check() -> None:
    """``Checker.answering``, which the LLM path's fallback filter calls on the other
    backend's cited sentences, is the check its own sentences get: the word checks, then
    the judge where it may speak."""
    said: list[str] = []
    checker = _checker("How big is the harbour fleet?", FLEET, 0.8, said)
    assert checker.answering(FLEET, [FLEET], [("fleet.txt", 1)], []) == []
    assert said == [f"{FLEET} -> {FLEET}"]
    unjudged = Checker({"S1": SourceLine("S1", "fleet.txt", 1, FLEET)},
                       "How big is the harbour fleet?")
    assert unjudged.answering(FLEET, [FLEET], [("fleet.txt", 1)], [])
