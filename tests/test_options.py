"""Each backend declares its own options; ``Settings`` keeps what every backend shares.
An option is read from an argument, else its variable, else its default; the variables
rag always read keep working; a bad value is a ``ConfigError`` naming where it came
from, said only by the backends that read it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.answer.base import Draft, DraftCitation
from rag.answer.llm_options import OpenAIOptions
from rag.answer.registry import _BACKENDS, BackendSpec, register
from rag.cli import main
from rag.embeddings import MiniLMEmbedder
from rag.engine import Engine
from rag.errors import ConfigError
from rag.local.options import LocalOptions
from rag.options import Options, option, parse_int
from rag.retrieval import Retriever
from rag.settings import Settings


def _positive(name: str, value: object) -> None:
    if not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value!r}")


@dataclass(frozen=True)
class EchoOptions(Options):
    times: int = option(1, env=("RAG_ECHO_TIMES", "ECHO_TIMES"), parse=parse_int,
                        check=_positive, help="how often the sentence is said")


class _Echo:
    """Says "Yes." ``times`` times, citing the best passage's first line."""

    name = "echo"

    def __init__(self, times: int) -> None:
        self.times = times

    def answer(self, question: str, retriever: Retriever, top_k: int) -> Draft:
        passage = retriever.search(question, 1)[0]
        return Draft(" ".join(["Yes."] * self.times) + " [1]",
                     [DraftCitation(passage.source, passage.start_line, passage.start_line)])


@pytest.fixture
def echo() -> Iterator[None]:
    register(BackendSpec("echo", lambda settings, root: _Echo(EchoOptions.of(settings).times),
                         "says yes", EchoOptions))
    yield
    del _BACKENDS["echo"]


def test_an_argument_wins_over_the_variable_and_the_variable_over_the_default() -> None:
    assert EchoOptions.read({}, {}).times == 1
    assert EchoOptions.read({}, {"ECHO_TIMES": "3"}).times == 3
    assert EchoOptions.read({}, {"RAG_ECHO_TIMES": "2", "ECHO_TIMES": "3"}).times == 2
    assert EchoOptions.read({}, {"RAG_ECHO_TIMES": "", "ECHO_TIMES": "3"}).times == 3
    assert EchoOptions.read({"times": 4}, {"RAG_ECHO_TIMES": "2"}).times == 4
    assert EchoOptions.read({"times": None}, {"RAG_ECHO_TIMES": "2"}).times == 2


def test_a_bad_value_names_where_it_came_from() -> None:
    with pytest.raises(ConfigError, match="RAG_ECHO_TIMES must be an integer, got 'two'"):
        EchoOptions.read({}, {"RAG_ECHO_TIMES": "two"})
    with pytest.raises(ConfigError, match="ECHO_TIMES must be at least 1, got 0"):
        EchoOptions.read({}, {"ECHO_TIMES": "0"})
    with pytest.raises(ConfigError, match="times must be at least 1, got -1"):
        EchoOptions.read({"times": -1}, {})
    with pytest.raises(ConfigError, match="no option 'nope'; its options are: times"):
        EchoOptions.parse("nope", "1")


def test_settings_carry_the_environment_only_when_read_from_it() -> None:
    assert OpenAIOptions.of(Settings()).model == "gpt-4.1-mini"
    env = {"RAG_MODEL": "m-env", "OPENAI_BASE_URL": "http://llm.test/v1"}
    settings = Settings.from_env(env)
    assert OpenAIOptions.of(settings).model == "m-env"
    assert OpenAIOptions.of(settings.with_options(model="m-arg")).model == "m-arg"
    assert OpenAIOptions.of(Settings.from_env(env, options={"model": "m-arg"})).model == "m-arg"
    assert "OPENAI" not in repr(settings)  # the environment, secrets and all, stays out


def test_every_variable_rag_read_before_still_reaches_its_option(tmp_path: Path) -> None:
    env = {"RAG_MODEL": "m", "OPENAI_BASE_URL": "http://llm.test/v1",
           "OPENAI_API_KEY": "sk-test", "RAG_LLM_EXTRA": '{"repeat_penalty": 1.0}',
           "RAG_STRUCTURED": "0", "RAG_MODEL_DIR": str(tmp_path), "RAG_TIMEOUT": "12",
           "RAG_TOP_K": "3", "RAG_BACKEND": "openai", "RAG_CORPUS": "docs",
           "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_CHROMA_URL": "http://db.test:8000"}
    settings = Settings.from_env(env)
    assert (settings.corpus, settings.index_dir, settings.top_k, settings.backend,
            settings.chroma_url, settings.timeout_s) == (
        Path("docs"), tmp_path / "index", 3, "openai", "http://db.test:8000", 12.0)
    openai = OpenAIOptions.of(settings)
    assert (openai.model, openai.base_url, openai.api_key, openai.llm_extra,
            openai.structured, openai.max_retries) == (
        "m", "http://llm.test/v1", "sk-test", {"repeat_penalty": 1.0}, False, 3)
    assert "sk-test" not in repr(openai)
    local = LocalOptions.of(settings)
    assert (local.model_dir, local.structured) == (tmp_path, False)
    assert LocalOptions.of(Settings.from_env({"XDG_CACHE_HOME": str(tmp_path)})).model_dir == (
        tmp_path / "rag")


def test_a_bad_option_is_said_by_the_backend_that_reads_it(
    tmp_path: Path, echo: None, embedder: MiniLMEmbedder
) -> None:
    """Before any index work; a backend that does not read it is not stopped by it."""
    (tmp_path / "notes.txt").write_text("The harbour has 12 ferries.\n")
    bad = {"RAG_LLM_EXTRA": "[1, 2]", "RAG_ECHO_TIMES": "0"}
    for backend, message in (("openai", "RAG_LLM_EXTRA must be a JSON object"),
                             ("echo", "RAG_ECHO_TIMES must be at least 1")):
        settings = Settings.from_env(bad, corpus=tmp_path, index_dir=tmp_path / "index",
                                     backend=backend)
        with pytest.raises(ConfigError, match=message):
            Engine(settings)
    assert not (tmp_path / "index").exists()
    extractive = Settings.from_env(bad, corpus=tmp_path, index_dir=tmp_path / "index")
    assert Engine(extractive, embedder=embedder).settings.backend == "extractive"


def test_an_option_reaches_the_backend_from_python_and_the_command_line(
    echo: None, seeds_engine: Engine, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert seeds_engine.ask("Who stood with Putin?", backend="echo").text == "Yes. [1]"
    assert seeds_engine.ask("Who stood with Putin?", backend="echo",
                            times=2).text == "Yes. Yes. [1]"
    corpus = str(seeds_engine.corpus_root)
    monkeypatch.setenv("RAG_ECHO_TIMES", "3")
    assert main(["ask", "--backend", "echo", "--corpus", corpus, "Who stood with Putin?"]) == 0
    assert "Yes. Yes. Yes. [1]" in capsys.readouterr().out
    assert main(["ask", "--backend", "echo", "-o", "times", "2", "--corpus", corpus,
                 "Who stood with Putin?"]) == 0
    assert "Yes. Yes. [1]" in capsys.readouterr().out
    assert main(["ask", "--backend", "echo", "-o", "times", "x", "--corpus", corpus,
                 "Who?"]) == 2
    assert "backend echo: times must be an integer, got 'x'" in capsys.readouterr().err
    assert main(["ask", "--backend", "echo", "-o", "model", "m", "--corpus", corpus,
                 "Who?"]) == 2
    assert "no option 'model'; its options are: times" in capsys.readouterr().err


def test_help_lists_each_backend_with_its_options(
    echo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("ask", "chat", "eval"):
        assert main([command, "--help"]) == 0
        shown = " ".join(capsys.readouterr().out.split())
        assert "extractive: quotes the sentences" in shown
        assert "model (str; $RAG_MODEL; default gpt-4.1-mini): the model to ask" in shown
        assert "api_key (str | None; $OPENAI_API_KEY): the endpoint's key" in shown
        assert "model_dir (Path; $RAG_MODEL_DIR)" in shown
        assert ("times (int; $RAG_ECHO_TIMES; $ECHO_TIMES; default 1): how often the "
                "sentence is said") in shown


def test_an_option_no_backend_declares_is_an_error_not_ignored(
    seeds_engine: Engine,
) -> None:
    """A misspelt keyword (``modle=``) would otherwise be dropped without a word; one
    that another backend declares (``model=`` with the extractive backend) is not."""
    with pytest.raises(ConfigError, match="no backend takes the option 'modle'"):
        seeds_engine.ask("Who stood with Putin?", modle="gpt-4o")
    answer = seeds_engine.ask("Who stood with Putin?", model="gpt-4o")
    assert answer.citations
