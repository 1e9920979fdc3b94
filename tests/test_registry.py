"""A new backend is one registration: the settings accept its name, the CLI offers it,
``ask`` and ``ask_stream`` use it, and its answer is checked like any other."""

from __future__ import annotations

import json
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
    """The engine refuses it when made, before any index work (the settings hold any
    name: which names exist is the registry's to say, and settings import no backend)."""
    (tmp_path / "notes.txt").write_text("The harbour has 12 ferries.\n")
    settings = Settings(corpus=tmp_path, index_dir=tmp_path / "index", backend="nope")
    with pytest.raises(ConfigError, match="extractive, openai, local"):
        Engine(settings)
    assert not (tmp_path / "index").exists()


PLUGIN = '''\
from dataclasses import dataclass

from rag.answer.base import Draft, DraftCitation
from rag.answer.registry import BackendSpec
from rag.options import Options, option


@dataclass(frozen=True)
class LastLineOptions(Options):
    says: str = option("The plugin says so.", env="RAG_LAST_LINE_SAYS",
                       help="what its sentence says")


class LastLine:
    name = "last-line"

    def __init__(self, says):
        self.says = says

    def answer(self, question, retriever, top_k):
        passage = retriever.search(question, 1)[0]
        return Draft(f"{self.says} [1]",
                     [DraftCitation(passage.source, passage.end_line, passage.end_line)])


def make(settings, root):
    return LastLine(LastLineOptions.of(settings).says)


SPEC = BackendSpec("last-line", make, "a plugin's backend", LastLineOptions)


def broken():
    raise RuntimeError("this plugin is broken")
'''


def test_a_package_adds_a_backend_through_an_entry_point(tmp_path: Path) -> None:
    """A distribution outside rag (its module and its dist-info on the path, as pip
    installs one) declares ``rag.backends`` entry points: the CLI offers its backend and
    its option, and answers with it, checked like any other, the option read from its
    variable or, over that, from ``-o``; a broken one is a warning, not a failure."""
    import os
    import subprocess
    import sys

    site = tmp_path / "site"
    (site / "rag_plugin_demo-0.1.dist-info").mkdir(parents=True)
    (site / "rag_plugin_demo.py").write_text(PLUGIN)
    (site / "rag_plugin_demo-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: rag-plugin-demo\nVersion: 0.1\n")
    (site / "rag_plugin_demo-0.1.dist-info" / "entry_points.txt").write_text(
        "[rag.backends]\nlast-line = rag_plugin_demo:SPEC\nbroken = rag_plugin_demo:broken\n"
        "extractive = rag_plugin_demo:SPEC\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.txt").write_text("The harbour has 12 ferries.\n")
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "RAG_INDEX_DIR": str(tmp_path / "index")}
    run = subprocess.run(
        [sys.executable, "-W", "always", "-m", "rag.cli", "ask", "--corpus", str(corpus),
         "--backend", "last-line", "How many ferries are there?"],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    assert "The plugin says so. [1]" in run.stdout
    assert "notes.txt:1" in run.stdout
    assert "backend 'broken' (rag_plugin_demo:broken) not loaded" in run.stderr
    ask = [sys.executable, "-m", "rag.cli", "ask", "--corpus", str(corpus), "--backend",
           "last-line", "How many ferries are there?"]
    told = {**env, "RAG_LAST_LINE_SAYS": "The variable says so."}
    from_variable = subprocess.run(ask, capture_output=True, text=True, env=told,
                                   timeout=600, check=False)
    assert from_variable.returncode == 0, from_variable.stderr
    assert "The variable says so. [1]" in from_variable.stdout
    from_argument = subprocess.run([*ask, "-o", "says", "The argument says so."],
                                   capture_output=True, text=True, env=told, timeout=600,
                                   check=False)
    assert from_argument.returncode == 0, from_argument.stderr
    assert "The argument says so. [1]" in from_argument.stdout
    helped = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--help"],
                            capture_output=True, text=True, env=env, timeout=600, check=False)
    assert "last-line" in helped.stdout
    assert ("says (str; $RAG_LAST_LINE_SAYS; default The plugin says so.): what its "
            "sentence says") in " ".join(helped.stdout.split())  # as wrapped to the width
    # rag's own name is not taken over by a plugin.
    default = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "--corpus", str(corpus),
         "How many ferries are there?"],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert "The plugin says so" not in default.stdout


def test_rag_eval_runs_a_registered_backend_by_name(
    registered: None, seeds_engine: Engine, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``rag eval --backend NAME`` scores any registered backend beside the others: live,
    as ``rag ask --backend NAME`` runs it, when it has no recording."""
    items = (Path(__file__).resolve().parent.parent / "evals" / "dataset.jsonl")
    small = tmp_path / "two.jsonl"
    small.write_text("".join(items.read_text(encoding="utf-8").splitlines(True)[:2]),
                     encoding="utf-8")
    assert main(["eval", "--backend", "first-line", "--backend", "extractive", "--set",
                 str(small), "--corpus", str(seeds_engine.corpus_root),
                 "--out", str(tmp_path / "reports")]) == 0
    report = json.loads((tmp_path / "reports" / "two.json").read_text(encoding="utf-8"))
    assert set(report) == {"first-line", "extractive"}
    assert report["first-line"]["summary"]["items"] == 2
    assert "live" in report["first-line"]["note"]
    assert "first-line" in capsys.readouterr().out


def test_rag_eval_refuses_a_backend_nobody_registered(
    seeds_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--backend", "nope", "--corpus",
                 str(seeds_engine.corpus_root)]) != 0
    assert "unknown backend nope" in capsys.readouterr().err
