"""The public API: its names, answers whose citations resolve exactly against the files,
input errors, and an answer path that imports no LLM library and opens no socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path

import pydantic
import pytest

import rag
import rag.errors
from rag.engine import Engine
from rag.types import Answer, Citation

WriteFiles = Callable[[Path, dict[str, str | bytes]], Path]

PUBLIC_NAMES = {
    "ask",
    "build_index",
    "retrieve",
    "Answer",
    "Citation",
    "Passage",
    "IndexStats",
    "Verification",
    "RagError",
    "RagWarning",
    "StaleIndexWarning",
    "LargeFileWarning",
    "IndexDamagedError",
    "InputError",
    "QuestionError",
    "CorpusError",
    "ConfigError",
    "IndexBuildError",
    "BackendError",
    "LLMError",
    "CitationError",
    "SkippedFileWarning",
    "__version__",
    "LocalModelError",
    "StructuredOutputRejected",
}

SEED_QUESTIONS = [
    "How many T-90 tanks did Egypt buy?",
    "How many tanks has India purchased?",
    "What missile system did Turkey buy from Russia in 2019?",
    "Under which act was Turkey's defense procurement company sanctioned?",
    "How many soldiers take part in the Vostok-2022 exercises?",
    "Where did Putin offer weapons to allies?",
    "Who did Putin send a letter to for liberation day?",
    "What did North Korea recognize in July?",
    "Where will Putin travel on Wednesday?",
    "What did Turkey refuse to apply against Moscow?",
    "Which countries accounted for nearly two-thirds of Russian arms sales?",
]


@pytest.fixture
def bridge_corpus(tmp_path: Path, write_files: WriteFiles) -> Path:
    return write_files(
        tmp_path / "corpus", {"a.txt": "Title\n\nThe bridge over the river was built in 1932.\n"}
    )


def test_all_is_sorted_and_exactly_the_public_names() -> None:
    assert rag.__all__ == sorted(rag.__all__)
    assert set(rag.__all__) == PUBLIC_NAMES
    for name in rag.__all__:
        assert getattr(rag, name) is not None
    exported = {
        name
        for name, value in vars(rag).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert exported == PUBLIC_NAMES - {"__version__"}


def test_error_tree() -> None:
    for name in ("InputError", "IndexBuildError", "BackendError", "CitationError"):
        assert issubclass(getattr(rag, name), rag.RagError)
    for name in ("QuestionError", "CorpusError", "ConfigError"):
        assert issubclass(getattr(rag, name), rag.InputError)
    assert issubclass(rag.LLMError, rag.BackendError)
    assert issubclass(rag.LocalModelError, rag.BackendError)
    assert issubclass(rag.StructuredOutputRejected, rag.LLMError)
    assert issubclass(rag.SkippedFileWarning, Warning)
    assert not issubclass(rag.SkippedFileWarning, rag.RagError)
    assert sorted(rag.errors.__all__) == rag.errors.__all__


def seed_lines(engine: Engine, source: str) -> list[str]:
    """The file's lines, read here without rag's reader: split on newlines only."""
    data = (engine.corpus_root / source).read_bytes().decode("utf-8-sig")
    return [line.removesuffix("\r") for line in data.split("\n")]


def test_every_citation_of_seed_answers_resolves_exactly(seeds_engine: Engine) -> None:
    answered = 0
    for question in SEED_QUESTIONS:
        answer = seeds_engine.ask(question)
        assert answer.question == question
        assert answer.backend == "extractive"
        if answer.refused:
            assert answer.citations == []
            continue
        answered += 1
        assert answer.citations
        for number, citation in enumerate(answer.citations, start=1):
            assert f"[{number}]" in answer.text
            lines = seed_lines(seeds_engine, citation.source)
            assert citation.quote == "\n".join(lines[citation.start_line - 1 : citation.end_line])
            assert citation.quote.strip()
    assert answered >= len(SEED_QUESTIONS) - 3


def test_egypt_answer_cites_its_line(seeds_engine: Engine) -> None:
    answer = seeds_engine.ask("How many T-90 tanks did Egypt buy?")
    assert not answer.refused
    assert "500" in answer.text
    assert {(c.source, c.start_line) for c in answer.citations} & {
        ("001_8eb2f5025aa8eb43.txt", 76),
        ("001_8eb2f5025aa8eb43.txt", 46),
    }


def test_differing_figures_anywhere_in_the_shortlist_are_shown_with_both_citations(
    seeds_engine: Engine,
) -> None:
    # "more than 70 countries" in two articles' text, "72 nations" in one's summary.
    answer = seeds_engine.ask("How many countries sent delegations to Army-2022?")
    assert answer.text.startswith("The sources differ:")
    cited = {(c.source, c.start_line) for c in answer.citations}
    assert ("001_8eb2f5025aa8eb43.txt", 5) in cited  # 72 nations
    assert cited & {("001_8eb2f5025aa8eb43.txt", 13), ("000_d48c1ce77a40c18f.txt", 17)}
    assert "72 nations" in answer.text
    assert "70 countries" in answer.text


def test_unanswerable_question_is_refused_without_citations(seeds_engine: Engine) -> None:
    answer = seeds_engine.ask("What is the boiling point of mercury on Neptune?")
    assert answer.refused
    assert answer.citations == []
    assert "[1]" not in answer.text


@pytest.mark.parametrize(
    "question",
    [
        # The seeds say Algeria bought T-90 tanks, and give India's and Egypt's counts in
        # the same lines, never Algeria's: the issue's own example of a question whose
        # subject the documents mention without the asked fact.
        "How many T-90 tanks did Algeria buy?",
        "How many T-90 tanks has Algeria purchased from Russia?",
    ],
)
def test_a_figure_the_documents_do_not_give_is_refused(
    seeds_engine: Engine, question: str
) -> None:
    answer = seeds_engine.ask(question)
    assert answer.refused, answer.text
    assert answer.citations == []


def test_a_part_that_means_what_the_corpus_lacks_is_refused_with_it(
    seeds_engine: Engine,
) -> None:
    """A question asking two things is answered part by part; a part that names nothing
    of its own ("how much does it cost?") means what the other names, and is refused with
    it when the documents lack that. A part that names its own subject is still answered."""
    lacking = seeds_engine.ask("Does Russia sell the Zorblax-9 drone, and how much does it cost?")
    assert lacking.refused, lacking.text
    assert lacking.citations == []
    alone = seeds_engine.ask(
        "Which company makes the Zorblax-9 drone, and how many T-90 tanks did Egypt buy?"
    )
    assert not alone.refused
    assert "500" in alone.text


def test_a_refused_answer_cannot_carry_citations() -> None:
    citation = Citation(source="a.txt", start_line=1, end_line=1, quote="x")
    with pytest.raises(pydantic.ValidationError, match="refused"):
        Answer(question="q", text="no", refused=True, citations=[citation], backend="extractive")


def test_citation_lines_must_be_ordered_and_positive() -> None:
    with pytest.raises(pydantic.ValidationError):
        Citation(source="a.txt", start_line=3, end_line=2, quote="x")
    with pytest.raises(pydantic.ValidationError):
        Citation(source="a.txt", start_line=0, end_line=1, quote="x")


def test_answer_json_round_trips(seeds_engine: Engine) -> None:
    answer = seeds_engine.ask("How many T-90 tanks did Egypt buy?")
    data = answer.model_dump_json()
    assert Answer.model_validate_json(data) == answer
    parsed = json.loads(data)
    assert parsed["citations"][0]["quote"] == answer.citations[0].quote
    assert set(parsed) >= {"question", "text", "refused", "citations", "backend"}


def test_public_ask_and_retrieve(bridge_corpus: Path) -> None:
    answer = rag.ask("When was the bridge built?", corpus=bridge_corpus)
    assert [(c.source, c.start_line, c.end_line) for c in answer.citations] == [("a.txt", 3, 3)]
    assert answer.citations[0].quote == "The bridge over the river was built in 1932."
    passages = rag.retrieve("bridge", corpus=bridge_corpus, top_k=1)
    assert [(p.source, p.start_line) for p in passages] == [("a.txt", 3)]
    stats = rag.build_index(bridge_corpus)
    assert stats.embedded == 0
    assert stats.files == 1


def test_corpus_from_the_environment(bridge_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CORPUS", str(bridge_corpus))
    answer = rag.ask("When was the bridge built?")
    assert answer.citations[0].source == "a.txt"


@pytest.mark.parametrize("question", ["", "   ", "\n\t "])
def test_empty_question_is_a_question_error(bridge_corpus: Path, question: str) -> None:
    with pytest.raises(rag.QuestionError):
        rag.ask(question, corpus=bridge_corpus)
    with pytest.raises(rag.QuestionError):
        rag.retrieve(question, corpus=bridge_corpus)


def test_overlong_question_is_a_question_error(bridge_corpus: Path) -> None:
    with pytest.raises(rag.QuestionError, match="longer"):
        rag.ask("bridge " * 1000, corpus=bridge_corpus)


@pytest.mark.parametrize("top_k", [0, -3])
def test_non_positive_top_k_is_a_config_error(
    bridge_corpus: Path, seeds_engine: Engine, top_k: int
) -> None:
    with pytest.raises(rag.ConfigError, match="top_k"):
        rag.ask("When was the bridge built?", corpus=bridge_corpus, top_k=top_k)
    with pytest.raises(rag.ConfigError, match="top_k"):
        rag.retrieve("bridge", corpus=bridge_corpus, top_k=top_k)
    with pytest.raises(rag.ConfigError, match="top_k"):
        seeds_engine.ask("Egypt tanks", top_k=top_k)
    with pytest.raises(rag.ConfigError, match="top_k"):
        seeds_engine.retrieve("Egypt tanks", top_k=top_k)


def test_unknown_backend_is_a_config_error(
    bridge_corpus: Path, seeds_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(rag.ConfigError, match="unknown backend"):
        rag.ask("When was the bridge built?", corpus=bridge_corpus, backend="oracle")
    with pytest.raises(rag.ConfigError, match="unknown backend"):
        seeds_engine.ask("Egypt tanks", backend="oracle")
    monkeypatch.setenv("RAG_BACKEND", "oracle")
    with pytest.raises(rag.ConfigError):
        rag.ask("When was the bridge built?", corpus=bridge_corpus)


def test_bad_top_k_in_the_environment_is_a_config_error(
    bridge_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_TOP_K", "many")
    with pytest.raises(rag.ConfigError, match="RAG_TOP_K"):
        rag.ask("When was the bridge built?", corpus=bridge_corpus)


def test_missing_corpus_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(rag.CorpusError):
        rag.ask("When was the bridge built?", corpus=tmp_path / "nowhere")
    assert not (tmp_path / "api-index").exists()


# A fresh interpreter: sockets refuse to connect (recording who tried), then rag answers.
OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[1:2] or args[:1]))
        raise OSError("network blocked in this test")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse

    import rag

    answer = rag.ask("When was the bridge built?", corpus=sys.argv[1])
    heavy = sorted(
        {m.split(".")[0] for m in sys.modules if m.startswith(("llama_index", "openai"))}
    )
    print(json.dumps({
        "lines": [[c.source, c.start_line] for c in answer.citations],
        "heavy": heavy,
        "attempts": attempts,
    }))
    """
)


def test_default_answer_path_is_offline_and_light(bridge_corpus: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env["RAG_INDEX_DIR"] = str(tmp_path / "subprocess-index")
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT, str(bridge_corpus)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["lines"] == [["a.txt", 3]]
    assert report["heavy"] == []
    assert report["attempts"] == []
    assert (tmp_path / "subprocess-index").is_dir()


def test_a_constant_the_corpus_lacks_is_not_found_by_its_parts(
    tmp_path: Path, write_files: Callable[..., Path], make_engine: Callable[..., Engine]
) -> None:
    """An environment variable's or a constant's name (HTTPX_LOG_LEVEL) is a name whole or
    not at all: that the documents have "httpx", "log" and "level" apart does not make
    them speak of it. A code identifier (``response.elapsed``) may still be found by its
    parts."""
    engine = make_engine(write_files(tmp_path / "docs", {"logging.md": (
        "# Logging\n\n"
        "HTTPX logs each request at the INFO level of the standard logging module.\n\n"
        "The `SSL_CERT_FILE` environment variable names a certificate bundle.\n\n"
        "The elapsed time of a response is kept on its elapsed property.\n"
    )}), tmp_path / "index")
    lacking = engine.ask("Does the HTTPX_LOG_LEVEL environment variable set the log level?")
    assert lacking.refused, lacking.text
    named = engine.ask("What does the SSL_CERT_FILE environment variable name?")
    assert cited_lines(named) == [("logging.md", 5)]
    assert cited_lines(engine.ask("What does response.elapsed measure?")) == [("logging.md", 7)]


def test_a_size_question_is_answered_by_a_figure_or_refused(
    tmp_path: Path, write_files: Callable[..., Path], make_engine: Callable[..., Engine]
) -> None:
    """"What chunk size..." asks for a figure: a line that names the chunk size without
    giving one does not answer it."""
    engine = make_engine(write_files(tmp_path / "docs", {"guide.md": (
        "# Streaming\n\n"
        "A response body can be read in pieces with `iter_bytes([chunk_size])`.\n\n"
        "# Testing\n\n"
        "The test suite starts its servers on ports 8000 and 8001.\n"
    )}), tmp_path / "index")
    size = engine.ask("What chunk size does iter_bytes() use when none is given?")
    assert size.refused, size.text
    ports = engine.ask("Which local ports must be free for the test suite?")
    assert cited_lines(ports) == [("guide.md", 7)]


def cited_lines(answer: Answer) -> list[tuple[str, int]]:
    return [(c.source, c.start_line) for c in answer.citations]
