"""A new backend is one registration: the settings accept its name, the CLI offers it,
``ask`` and ``ask_stream`` use it, and its answer is checked like any other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.answer.base import Draft, DraftCitation
from rag.answer.registry import _BACKENDS, BackendSpec, backend_names, register
from rag.cli import main
from rag.engine import Engine
from rag.errors import CitationError, ConfigError
from rag.retrieval import Retriever
from rag.settings import Settings


class _FirstLine:
    """Quotes the first line of the best passage, whatever the question."""

    name = "first-line"

    def answer(self, question: str, retriever: Retriever, top_k: int) -> Draft:
        passage = retriever.search(question, 1)[0]
        return Draft("It says so. [1]", [DraftCitation(passage.source, passage.start_line,
                                                       passage.start_line)])


class _Lying(_FirstLine):
    name = "lying"

    def answer(self, question: str, retriever: Retriever, top_k: int) -> Draft:
        draft = super().answer(question, retriever, top_k)
        cited = draft.citations[0]
        return Draft(draft.text, [DraftCitation(cited.source, cited.start_line,
                                                cited.end_line, ("words not in the file",))])


@pytest.fixture
def registered() -> Iterator[None]:
    register(BackendSpec("first-line", lambda settings, root: _FirstLine()))
    register(BackendSpec("lying", lambda settings, root: _Lying()))
    yield
    del _BACKENDS["first-line"], _BACKENDS["lying"]


def test_a_registered_backend_is_usable_everywhere(
    registered: None, seeds_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "first-line" in backend_names()
    assert Settings(backend="first-line").backend == "first-line"
    answer = seeds_engine.ask("Who stood with Putin?", backend="first-line")
    assert answer.backend == "first-line"
    assert answer.citations[0].quote  # resolved against the file like any answer
    streamed = list(seeds_engine.ask_stream("Who stood with Putin?", backend="first-line"))
    assert streamed == [answer]  # a backend that does not stream yields its Answer alone
    assert main(["ask", "--backend", "first-line", "--corpus",
                 str(seeds_engine.corpus_root), "Who stood with Putin?"]) == 0
    assert "It says so. [1]" in capsys.readouterr().out


def test_a_registered_backend_cannot_cite_what_the_file_does_not_say(
    registered: None, seeds_engine: Engine
) -> None:
    with pytest.raises(CitationError):
        seeds_engine.ask("Who stood with Putin?", backend="lying")


def test_an_unknown_backend_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="extractive, openai, local"):
        Settings(backend="nope")
