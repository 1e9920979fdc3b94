"""The ``rag`` command, run in-process through ``rag.cli.main`` (with capsys), and as a
real subprocess only where a fresh interpreter is the point: the imports it pulls in and
the installed console script."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import rag
import rag.cli
import rag.display
from rag.embeddings import MiniLMEmbedder
from rag.engine import Engine
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EGYPT = "How many tanks did Egypt buy?"
EGYPT_FILE = "001_8eb2f5025aa8eb43.txt"
EGYPT_CITES = {(EGYPT_FILE, 46), (EGYPT_FILE, 76)}  # both lines say Egypt bought 500 T-90s
VIETNAM = "How many T-90 tanks did Vietnam buy?"
BRIDGE = "When was the bridge built?"
BRIDGE_LINE = "The bridge over the river was built in 1932."


@pytest.fixture(scope="module")
def seeds_index(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Path:
    """An index of the real seeds/ built once for this module; tests only read it."""
    index_dir = tmp_path_factory.mktemp("seeds-index")
    Engine(Settings(corpus=SEEDS, index_dir=index_dir), embedder=embedder).build()
    return index_dir


@pytest.fixture
def use_seeds_index(monkeypatch: pytest.MonkeyPatch, seeds_index: Path) -> Path:
    monkeypatch.setenv("RAG_INDEX_DIR", str(seeds_index))
    return seeds_index


@pytest.fixture
def bridge(corpus_dir: Path) -> Path:
    """A one-file corpus whose answer sits on line 3."""
    (corpus_dir / "a.txt").write_text(f"Title\n\n{BRIDGE_LINE}\n", encoding="utf-8")
    return corpus_dir


def file_lines(source: str, start: int, end: int, corpus: Path = SEEDS) -> str:
    """Lines as editors number them: split on '\\n' only, a trailing '\\r' dropped, as rag
    does (``read_text`` would also turn a lone '\\r' into a line break)."""
    lines = (corpus / source).read_bytes().decode("utf-8-sig").split("\n")[start - 1 : end]
    return "\n".join(line.removesuffix("\r") for line in lines)


def test_ask_prints_answer_then_cited_lines(
    bridge: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rag.cli.main(["ask", BRIDGE, "--corpus", str(bridge)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "The bridge over the river was built in 1932. [1]",
        "[1] a.txt:3",
        f"    {BRIDGE_LINE}",
    ]
    assert err == ""


def test_ask_json_is_exactly_one_answer(
    use_seeds_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rag.cli.main(["ask", EGYPT, "--json", "--corpus", str(SEEDS)]) == 0
    out, _ = capsys.readouterr()
    json.loads(out)  # the whole of stdout is one JSON document
    answer = rag.Answer.model_validate_json(out)
    assert not answer.refused
    assert "500" in answer.text
    assert answer.citations
    for c in answer.citations:
        assert c.quote == file_lines(c.source, c.start_line, c.end_line)
    assert any((c.source, c.start_line) in EGYPT_CITES for c in answer.citations)


def test_refusal_prints_refusal_and_exits_0(
    use_seeds_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rag.cli.main(["ask", VIETNAM, "--corpus", str(SEEDS)]) == 0
    out, _ = capsys.readouterr()
    assert out.strip() == "The documents do not contain the answer to this question."
    assert rag.cli.main(["ask", VIETNAM, "--corpus", str(SEEDS), "--json"]) == 0
    answer = rag.Answer.model_validate_json(capsys.readouterr().out)
    assert answer.refused
    assert answer.citations == []


@pytest.mark.parametrize("question", ["", "   \t "])
def test_empty_question_is_bad_input(
    bridge: Path, question: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rag.cli.main(["ask", question, "--corpus", str(bridge)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "rag: error: the question is empty\n"


def test_missing_corpus_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert rag.cli.main(["ask", BRIDGE, "--corpus", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("rag: error: ")
    assert str(missing) in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", BRIDGE, "--top-k", "0"],
        ["ask", BRIDGE, "--top-k", "many"],
        ["ask", BRIDGE, "--backend", "nope"],
        ["ask"],
        [],
        ["frobnicate"],
    ],
)
def test_bad_usage_exits_2(
    bridge: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert rag.cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "rag: error: " in err


def test_bad_setting_in_environment_is_bad_input(
    bridge: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_TOP_K", "lots")
    assert rag.cli.main(["ask", BRIDGE, "--corpus", str(bridge)]) == 2
    assert capsys.readouterr().err == "rag: error: RAG_TOP_K must be an integer, got 'lots'\n"


def test_corpus_flag_beats_env_which_beats_default(
    bridge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "missing"
    monkeypatch.setenv("RAG_CORPUS", str(missing))
    assert rag.cli.main(["ask", BRIDGE, "--corpus", str(bridge)]) == 0
    assert "[1] a.txt:3" in capsys.readouterr().out
    assert rag.cli.main(["ask", BRIDGE]) == 2
    assert str(missing) in capsys.readouterr().err
    monkeypatch.setenv("RAG_CORPUS", str(bridge))
    assert rag.cli.main(["ask", BRIDGE]) == 0
    assert "[1] a.txt:3" in capsys.readouterr().out


def test_binary_file_is_warned_on_stderr_once(
    bridge: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (bridge / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    assert rag.cli.main(["ask", BRIDGE, "--json", "--corpus", str(bridge)]) == 0
    out, err = capsys.readouterr()
    assert not rag.Answer.model_validate_json(out).refused
    warnings = [line for line in err.splitlines() if line.startswith("rag: warning: ")]
    assert len(warnings) == 1
    assert "blob.txt" in warnings[0]
    assert "blob.txt" not in out


def test_index_reports_then_embeds_nothing_the_second_time(
    bridge: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (bridge / "b.md").write_text("# Notes\n\nThe ferry runs twice a day.\n", encoding="utf-8")
    assert rag.cli.main(["index", "--corpus", str(bridge)]) == 0
    first = capsys.readouterr().out
    assert first.count("\n") == 1
    assert "2 files" in first
    assert "added 2," in first
    assert "embedded 0" not in first
    assert rag.cli.main(["index", "--corpus", str(bridge)]) == 0
    second = capsys.readouterr().out
    assert "embedded 0 " in second
    assert "added 0, updated 0, removed 0, skipped 0" in second


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_index_draws_progress_bar_on_a_terminal(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"Station {n} logged {n * 7} millimetres of rain." for n in range(230)]
    (corpus_dir / "rain.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert rag.cli.main(["index", "--corpus", str(corpus_dir)]) == 0
    drawn = terminal.getvalue()
    total = int(capsys.readouterr().out.split("embedded ")[1].split()[0])
    assert total > rag.display.PROGRESS_MIN_TOTAL
    assert drawn.startswith(f"\r[{' ' * 30}] embedding 0/{total} records")
    assert re.search(rf"\[{'#' * 30}\] embedding {total}/{total} records in \d+ s\x1b\[K\n$",
                     drawn)


def test_progress_off_a_terminal_is_a_line_a_tenth_with_rate_and_time_left() -> None:
    stream = io.StringIO()
    clock = iter(range(0, 1000, 2))
    progress = rag.display.BuildProgress(stream, clock=lambda: float(next(clock)))
    for done in range(0, 1001, 50):
        progress(done, 1000)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0] == "rag: embedding 0/1000 records"
    assert lines[1] == "rag: embedding 100/1000 records, 25/s, about 36 s left"
    assert lines[-1] == "rag: embedding 1000/1000 records in 40 s"


def test_progress_off_a_terminal_logs_once_a_minute_between_tenths() -> None:
    stream = io.StringIO()
    clock = iter(range(0, 100_000, 30))  # 30 s between calls, 3,000 calls in all
    progress = rag.display.BuildProgress(stream, clock=lambda: float(next(clock)))
    for done in range(3000):  # all within the first tenth
        progress(done, 33_400)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1500  # every other call: a line a minute


def test_time_left_is_estimated_from_the_text_left_not_the_records_left() -> None:
    stream = io.StringIO()
    clock = iter([0.0, 100.0])
    progress = rag.display.BuildProgress(stream, clock=lambda: next(clock))
    # Half the records embedded in 100 s, but they were the short ones: a tenth of the text.
    progress.weighted(0, 1000, 0, 10_000)
    progress.weighted(500, 1000, 1000, 10_000)
    assert stream.getvalue().splitlines()[-1] == (
        "rag: embedding 500/1000 records, 5/s, about 15 min 0 s left")


def test_no_progress_for_small_builds() -> None:
    for stream in (_Terminal(), io.StringIO()):
        progress = rag.display.BuildProgress(stream)
        progress(5, 10)
        progress(10, 10)
        assert stream.getvalue() == ""


def test_chat_transcript(
    use_seeds_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    transcript = f"{EGYPT}\n:sources\n\n:quit\n{VIETNAM}\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(transcript))
    assert rag.cli.main(["chat", "--corpus", str(SEEDS)]) == 0
    out, err = capsys.readouterr()
    answer, sources = out.split("\n\n")[:2]
    assert "500" in answer.splitlines()[0]
    cited = re.findall(rf"^\[1\] {EGYPT_FILE}:(\d+)$", answer, re.MULTILINE)
    assert cited
    assert (EGYPT_FILE, int(cited[0])) in EGYPT_CITES
    line = file_lines(EGYPT_FILE, int(cited[0]), int(cited[0]))
    assert f"\n    {line}" in answer
    assert sources.startswith(f"[1] {EGYPT_FILE}, line {cited[0]}\n")
    assert f"{cited[0]} | {line}" in sources
    assert "do not contain" not in out  # nothing after :quit is asked
    assert "rag>" not in out + err  # no prompt when stdin is not a terminal
    assert err == ""


def test_chat_reports_a_bad_question_and_goes_on(
    bridge: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    too_long = "why " * 600
    transcript = f":sources\n:help\n:bogus\n{too_long}\n{BRIDGE}\n"  # EOF ends it, no :quit
    monkeypatch.setattr("sys.stdin", io.StringIO(transcript))
    assert rag.cli.main(["chat", "--corpus", str(bridge)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("(no answer yet)\n")
    assert ":sources" in out
    assert "[1] a.txt:3" in out
    assert err.count("rag: error: ") == 2
    assert "unknown command :bogus" in err
    assert "longer than" in err


def test_chat_with_a_missing_corpus_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{BRIDGE}\n"))
    assert rag.cli.main(["chat", "--corpus", str(tmp_path / "gone")]) == 2
    assert capsys.readouterr().err.startswith("rag: error: corpus folder ")


def test_other_rag_errors_exit_1_and_bugs_raise(
    bridge: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise rag.IndexBuildError("index\nlocked")

    monkeypatch.setattr(rag, "build_index", broken)
    assert rag.cli.main(["index", "--corpus", str(bridge)]) == 1
    assert capsys.readouterr().err == "rag: error: index locked\n"

    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(rag, "build_index", bug)
    with pytest.raises(RuntimeError, match="a bug"):
        rag.cli.main(["index", "--corpus", str(bridge)])


def test_ctrl_c_exits_130_without_traceback(
    bridge: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Engine, "ask", interrupted)
    assert rag.cli.main(["ask", BRIDGE, "--corpus", str(bridge)]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_ask_imports_neither_llama_index_nor_openai(bridge: Path) -> None:
    code = (
        "import sys, rag.cli\n"
        f"code = rag.cli.main(['ask', {BRIDGE!r}, '--corpus', {str(bridge)!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'llama_index', 'openai'})\n"
        "print('RESULT', code, heavy)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True)
    assert f"    {BRIDGE_LINE}\n" in run.stdout  # it really answered
    assert run.stdout.splitlines()[-1] == "RESULT 0 []"


def test_console_script_json(use_seeds_index: Path) -> None:
    script = Path(sys.executable).with_name("rag")
    run = subprocess.run([str(script), "ask", EGYPT, "--json", "--corpus", str(SEEDS)],
                         capture_output=True, encoding="utf-8", timeout=300)
    assert run.returncode == 0, run.stderr
    answer = rag.Answer.model_validate(json.loads(run.stdout))
    assert "500" in answer.text
    assert any((c.source, c.start_line) in EGYPT_CITES for c in answer.citations)
    for c in answer.citations:
        assert c.quote == file_lines(c.source, c.start_line, c.end_line)


def test_a_reader_that_closes_the_pipe_ends_it_quietly(use_seeds_index: Path) -> None:
    """`rag ask ... | head -1`: the reader may be gone before we write. No traceback, the
    status of a process that SIGPIPE ended (the real console script, a real pipe whose
    reading end is closed before anything is written)."""
    script = Path(sys.executable).with_name("rag")
    read, write = os.pipe()
    os.close(read)
    try:
        run = subprocess.run([str(script), "ask", EGYPT, "--corpus", str(SEEDS)],
                             stdout=write, stderr=subprocess.PIPE, encoding="utf-8",
                             timeout=300)
    finally:
        os.close(write)
    assert run.returncode == 141, run.stderr
    assert run.stderr == ""


def test_a_big_corpus_is_announced_before_the_silent_part(
    corpus_dir: Path, index_dir: Path, make_engine: Callable[..., Engine],
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = "The harbour master logged the tide at the pier.\n"
    (corpus_dir / "log.txt").write_text(line * (rag.cli.ANNOUNCE_BYTES // len(line) + 1))
    engine = make_engine(corpus_dir, index_dir)
    rag.cli._announce(engine)
    assert capsys.readouterr().err.startswith("rag: indexing 1 files (1.0 MiB)")
    (corpus_dir / "log.txt").write_text(line)
    rag.cli._announce(engine)  # small: nothing to say
    assert capsys.readouterr().err == ""


def test_quoted_code_shows_its_line_breaks_and_no_control_characters() -> None:
    from rag.display import render_answer
    from rag.types import Answer, Citation

    answer = Answer(
        question="How?", refused=False, backend="extractive",
        text="limits = httpx.Limits(max_connections=10)\nclient = httpx.Client(limits=limits)"
             " \x1b[2J[1]",
        citations=[Citation(source="limits.md", start_line=11, end_line=12,
                            quote="limits = httpx.Limits(max_connections=10)\n"
                                  "client = httpx.Client(limits=limits)")])
    shown = render_answer(answer)
    assert shown.startswith("limits = httpx.Limits(max_connections=10)\n"
                            "client = httpx.Client(limits=limits) \\x1b[2J[1]\n")
    assert "\x1b" not in shown


def test_what_the_checks_dropped_is_listed_after_the_answer() -> None:
    from rag.types import Answer, Citation, Verification

    answer = Answer(
        question="How many T-90 tanks did Egypt buy in July?",
        text="Egypt bought 500 T-90 tanks. [1]", refused=False, backend="openai",
        citations=[Citation(source="a.txt", start_line=3, end_line=3,
                            quote="In July, Egypt bought 500 Russian T-90 tanks.")],
        verification=Verification(dropped=['"Algeria bought 900." (holds no number of the '
                                           'cited lines: 900)']))
    lines = rag.display.render_answer(answer).splitlines()
    assert lines[0] == "Egypt bought 500 T-90 tanks. [1]"
    assert lines[1:3] == ["[1] a.txt:3", "    In July, Egypt bought 500 Russian T-90 tanks."]
    assert lines[3] == 'dropped: "Algeria bought 900." (holds no number of the cited lines: 900)'
