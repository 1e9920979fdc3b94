"""The answerability model: packaged with rag, run offline, and able to tell a sentence
that answers from one that only speaks of the asked thing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from importlib import resources

import pytest

from rag.answer.answerability import MODEL_FILE, AnswerabilityModel, packaged_model
from rag.answer.extractive import ExtractiveBackend, ExtractiveParams
from rag.engine import Engine
from rag.evaluation.dataset import load_items
from tests.conftest import ROOT

# (question, a seeds sentence that answers it, seeds sentences on the same subject that
# do not). Written for this test. The sentences are seeds text, which the model read in
# training (the questions of evals/dev.jsonl and evals/train.jsonl): these tests pin the
# packaged model's behaviour; how it does on questions nobody trained on is measured on
# the holdout sets (benchmarks/calibrate.py --blind).
CASES = [
    (
        "How many T-90 tanks did Egypt buy in July?",
        "In July, Egypt bought 500 Russian T-90 tanks.",
        ["India has also bought 450, with Algeria another purchaser",
         "Before and after: a Russian T-90 tank is obliterated by a Ukrainian rocket."],
    ),
    (
        "Who stood on stage with Putin at the arms expo?",
        "Putin stands with Russian defence minister Sergei Shoigu on stage in Moscow this "
        "afternoon",
        ["Putin is pictured speaking at Patriot Congress and Exhibition Centre outside "
         "Moscow today"],
    ),
    (
        "Where was Putin pictured speaking?",
        "Putin is pictured speaking at Patriot Congress and Exhibition Centre outside "
        "Moscow today",
        ["Putin (pictured today) used the speech to pitch Russian arms to a number of "
         "concerned allies"],
    ),
]


@pytest.mark.parametrize(("question", "answer", "others"), CASES)
def test_the_answer_outscores_sentences_on_its_subject(
    question: str, answer: str, others: list[str]
) -> None:
    # A ranking, not a calibrated probability (session 2's model gave a "who" answer 0.12
    # and a "where" non-answer 0.76): the scorer fitted on hand-written questions sets the
    # scale.
    probabilities = packaged_model().probabilities(question, [answer, *others])
    assert all(p < probabilities[0] for p in probabilities[1:])


def test_no_sentence_answers_what_the_documents_do_not_say() -> None:
    # The seeds say Algeria bought T-90 tanks, never how many.
    probabilities = packaged_model().probabilities(
        "How many T-90 tanks did Algeria buy?",
        ["In July, Egypt bought 500 Russian T-90 tanks.",
         "India has also bought 450, with Algeria another purchaser"],
    )
    assert (probabilities < 0.5).all()


def test_probabilities_are_one_per_passage_and_bounded() -> None:
    model = packaged_model()
    assert model.probabilities("Who?", []).shape == (0,)
    got = model.probabilities("Who heads Rostec?", ["Sergei Chemezov heads Rostec.", "No."])
    assert got.shape == (2,)
    assert ((got >= 0) & (got <= 1)).all()


def test_the_notice_records_the_packaged_model() -> None:
    model = resources.files("rag._model").joinpath(MODEL_FILE).read_bytes()
    notice = resources.files("rag._model").joinpath("NOTICE.md").read_text("utf-8")
    assert hashlib.sha256(model).hexdigest() in notice


def test_candidates_are_the_shortlist_rescored_with_the_probability(
    seeds_engine: Engine,
) -> None:
    backend = ExtractiveBackend(ExtractiveParams(reranked=3))  # of about forty candidates
    found = backend.candidates(
        "How many T-90 tanks did Egypt buy in July?", seeds_engine.retriever(), 8
    )
    assert 0 < len(found) <= 3
    assert all(0.0 <= c.features["answerable"] <= 1.0 for c in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert found[0].score == backend.scorer.score(found[0].features)


def test_a_passage_scores_the_same_alone_or_among_others() -> None:
    # int8 activations are quantised per run: scored in one batch, a pair's probability
    # moved with its neighbours' (and changed answers). Each pair now runs alone.
    question = "How many T-90 tanks did Egypt buy in July?"
    answer = "In July, Egypt bought 500 Russian T-90 tanks."
    long_line = (
        "Before and after: a Russian T-90 tank is obliterated by a Ukrainian rocket. In "
        "July, Egypt bought 500 of the armoured vehicles. India has also bought 450, with "
        "Algeria another purchaser"
    )
    model = packaged_model()
    alone = model.probabilities(question, [answer])[0]
    among = model.probabilities(question, [long_line, answer, "Putin spoke."])[1]
    assert alone == among


def test_parallel_runs_give_each_pair_its_own_probability() -> None:
    question = "Who stood on stage with Putin at the arms expo?"
    passages = [case[1] for case in CASES] + [o for case in CASES for o in case[2]]
    one = AnswerabilityModel(workers=1).probabilities(question, passages)
    three = AnswerabilityModel(workers=3).probabilities(question, passages)
    assert one.tolist() == three.tolist()


def test_leaving_unread_what_cannot_matter_gives_the_same_answers(
    seeds_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = packaged_model()
    pruned = ExtractiveBackend(answerability=model)
    full = ExtractiveBackend(ExtractiveParams(prune=False), answerability=model)
    reads = {"pruned": 0, "full": 0}
    real = model.probabilities

    def counting(which: str) -> Callable[[str, Sequence[str]], object]:
        def probabilities(question: str, passages: Sequence[str]) -> object:
            reads[which] += len(passages)
            return real(question, passages)
        return probabilities

    for item in load_items(ROOT / "evals" / "dataset.jsonl")[:30]:
        monkeypatch.setattr(model, "probabilities", counting("full"))
        expected = seeds_engine.answer_with(full, item.question)
        monkeypatch.setattr(model, "probabilities", counting("pruned"))
        assert seeds_engine.answer_with(pruned, item.question) == expected
    assert reads["pruned"] < 0.9 * reads["full"]


def test_a_text_met_twice_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies of a line (a copied file, a repeated notice) cost one run between them, and
    each copy gets the probability the text gets alone."""
    model = AnswerabilityModel(workers=1)
    question = "How many T-90 tanks did Egypt buy in July?"
    answer, other = "In July, Egypt bought 500 Russian T-90 tanks.", "Putin spoke."
    session, _ = model._load()
    runs: list[int] = []
    real_run = session.run

    def run(outputs: object, feeds: dict[str, object]) -> object:
        runs.append(1)
        return real_run(outputs, feeds)

    monkeypatch.setattr(session, "run", run)
    got = model.probabilities(question, [answer, other, answer, answer])
    assert len(runs) == 2
    assert got[0] == got[2] == got[3] == model.probabilities(question, [answer])[0]
    assert got[1] == model.probabilities(question, [other])[0]
