"""The fault battery's second wave: hostile files and settings, recreated for real.

Real symlinks out of the corpus, real bidirectional controls in a file and its name, a real
lone carriage return in a Markdown file, a real full device (/dev/full), a real ASCII-only
terminal encoding, and real HTTP servers on 127.0.0.1 that send a body without end. Each
asserts what the user sees (exit code, one line, no traceback), bounded memory where memory
is what could go wrong, and that the known question is still answered with its citation.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import rag
from rag.answer.llm.openai import MAX_RESPONSE_BYTES, OpenAIChat
from rag.errors import ConfigError, LLMError
from rag.settings import Settings
from rag.store import LOCK_STALL_S
from tests.test_faults import (
    BRIDGE,
    HANG_S,
    QUESTION,
    RAG,
    Chat,
    answers_the_known_question,
    assert_one_line_error,
    base_url,
    citations,
    misbehaving,
    run_rag,
)

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "bridge.txt").write_text(BRIDGE)
    return folder


# --- a file outside the corpus is never read ---------------------------------------------


def test_a_link_out_of_the_corpus_is_skipped_with_a_warning_and_never_quoted(
    corpus: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "creds").write_text("The admin password of the billing database is hunter2.\n")
    (corpus / "notes.txt").symlink_to(secret / "creds")  # the target needs no suffix
    (corpus / "status.txt").symlink_to("/proc/self/status")
    (corpus / "harbour.txt").write_text("The harbour has four cranes and a lighthouse.\n")
    (corpus / "cranes.txt").symlink_to(corpus / "harbour.txt")  # inside: still read
    run = run_rag("ask", "--corpus", str(corpus), "What is the admin password of the billing "
                  "database?")
    assert run.returncode == 0, run.stderr
    assert "hunter2" not in run.stdout
    assert "skipping notes.txt: a link to a file outside the corpus folder" in run.stderr
    assert "skipping status.txt: a link to a file outside the corpus folder" in run.stderr
    assert "cranes.txt" not in run.stderr
    answers_the_known_question(corpus)
    cranes = run_rag("ask", "--corpus", str(corpus), "How many cranes does the harbour have?")
    assert "four cranes" in cranes.stdout, cranes.stderr
    # A citation of the link is refused as well, whatever wrote it.
    with pytest.raises(rag.RagError, match="outside the corpus"):
        rag.corpus.quote_lines(corpus, "notes.txt", 1, 1)


def test_a_folder_too_deep_to_open_is_reported_not_silently_dropped(
    corpus: Path, tmp_path: Path
) -> None:
    # A path longer than PATH_MAX (4096) is made one short step at a time.
    deep = os.open(corpus, os.O_RDONLY)
    try:
        for _ in range(45):
            name = "d" * 100
            os.mkdir(name, dir_fd=deep)
            inner = os.open(name, os.O_RDONLY, dir_fd=deep)
            os.close(deep)
            deep = inner
        fd = os.open("deep.txt", os.O_WRONLY | os.O_CREAT, dir_fd=deep)
        os.write(fd, b"A line nobody can open.\n")
        os.close(fd)
    finally:
        os.close(deep)
    run = run_rag("index", "--corpus", str(corpus))
    assert run.returncode == 0, run.stderr
    assert "rag: warning: skipping " in run.stderr
    assert "File name too long" in run.stderr
    answers_the_known_question(corpus)


# --- what a terminal shows ----------------------------------------------------------------


def test_bidirectional_controls_are_shown_as_escapes(corpus: Path) -> None:
    name = "inv\u202etxt.exe\u202c.txt"
    (corpus / name).write_text("Egypt bought \u202e005\u202c Russian T-90 tanks in July.\n")
    run = run_rag("ask", "--corpus", str(corpus), "How many T-90 tanks did Egypt buy in July?")
    assert run.returncode == 0, run.stderr
    assert "\u202e" not in run.stdout
    assert "\u202c" not in run.stdout
    assert "Egypt bought \\u202e005\\u202c Russian" in run.stdout
    assert "inv\\u202etxt.exe\\u202c.txt:1" in run.stdout


# --- one definition of a line -------------------------------------------------------------


def test_a_lone_carriage_return_in_markdown_stops_nothing(corpus: Path) -> None:
    (corpus / "doc.md").write_bytes(
        b"Intro one.\rIntro two.\n\n| Model | Price |\n|---|---|\n| Beta | 250 USD |\n"
    )
    run = run_rag("ask", "--corpus", str(corpus), "What does Beta cost?")
    assert run.returncode == 0, run.stderr
    assert "[2] doc.md:5" in run.stdout
    assert "250 USD" in run.stdout
    answers_the_known_question(corpus)


# --- settings and streams that used to end in a traceback ---------------------------------


@pytest.mark.parametrize(("env", "code", "words"), [
    ({"RAG_CHROMA_URL": "http://127.0.0.1:99999"}, 2, "RAG_CHROMA_URL is not a usable URL"),
    ({"RAG_CHROMA_URL": "ftp://127.0.0.1:8000"}, 2, "http:// or https://"),
    ({"RAG_TIMEOUT": "1e10", "RAG_BACKEND": "openai"}, 2, "at most 86400 seconds"),
])
def test_settings_out_of_range_are_one_line(
    corpus: Path, env: dict[str, str], code: int, words: str
) -> None:
    run = run_rag("ask", "--corpus", str(corpus), QUESTION, env=env)
    assert_one_line_error(run, code, words)


def test_an_index_folder_that_is_a_file_is_bad_input(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    for command in ("ask", "index"):
        args = [command, "--corpus", str(corpus)] + ([QUESTION] if command == "ask" else [])
        run = run_rag(*args, env={"RAG_INDEX_DIR": str(tmp_path / "afile")})
        assert_one_line_error(run, 2, "is a file, not a folder")


def test_a_full_output_device_is_one_line() -> None:
    with open("/dev/full", "wb") as full:
        done = subprocess.run([str(RAG), "ask", QUESTION, "--corpus", "seeds"], stdout=full,
                              stderr=subprocess.PIPE, timeout=HANG_S)
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == (
        "rag: error: cannot write to standard output: No space left on device")


def test_an_ascii_terminal_gets_escapes_not_a_traceback() -> None:
    run = run_rag("ask", "How many T-90 tanks did Egypt buy in July?", "--corpus", "seeds",
                  env={"PYTHONIOENCODING": "ascii"})
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "500" in run.stdout
    assert citations(run.stdout)


@pytest.mark.parametrize("corpus_arg", [5, 2.5, ["seeds"]])
def test_a_corpus_that_is_not_a_path_is_a_config_error(corpus_arg: object) -> None:
    with pytest.raises(ConfigError, match="corpus must be a folder's path"):
        rag.ask(QUESTION, corpus=corpus_arg)  # type: ignore[arg-type]


# --- a body that never ends ---------------------------------------------------------------


@pytest.mark.parametrize("manner", ["flood", "endless-line"])
def test_a_body_without_end_is_cut_at_the_limit(manner: str) -> None:
    with misbehaving(manner) as httpd:
        chat = OpenAIChat(Settings(timeout_s=60, options={
            "base_url": base_url(httpd), "model": "m", "max_retries": 3}))
        messages = [{"role": "user", "content": "Hi"}]
        ask = chat.complete if manner == "flood" else (lambda m: "".join(chat.stream(m)))
        with pytest.raises(LLMError, match=f"larger than {MAX_RESPONSE_BYTES // 2**20} MiB"):
            ask(messages)


@pytest.mark.parametrize("manner", ["flood", "endless-line"])
def test_the_memory_of_an_ask_against_a_flooding_endpoint_stays_bounded(
    corpus: Path, manner: str
) -> None:
    with misbehaving(manner) as httpd:
        process = subprocess.Popen(
            [str(RAG), "ask" if manner == "flood" else "chat", "--corpus", str(corpus),
             "--backend", "openai", "--base-url", base_url(httpd),
             *([QUESTION] if manner == "flood" else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "RAG_TIMEOUT": "20", "RAG_STRUCTURED": "0"},
        )
        assert process.stdin is not None
        process.stdin.write(f"{QUESTION}\n:quit\n".encode() if manner != "flood" else b"")
        process.stdin.close()
        _, status, usage = os.wait4(process.pid, 0)
        stderr = process.stderr.read().decode() if process.stderr else ""
        process.returncode = os.waitstatus_to_exitcode(status)
    assert "Traceback" not in stderr, stderr
    assert "larger than 8 MiB" in stderr, stderr
    peak_mib = usage.ru_maxrss / 1024  # kB on Linux
    assert peak_mib < 1500, f"peak {peak_mib:.0f} MiB"


def test_an_edit_that_keeps_size_and_time_says_how_to_fix_it(corpus: Path) -> None:
    answers_the_known_question(corpus)
    bridge = corpus / "bridge.txt"
    before = bridge.stat()
    bridge.write_text(bridge.read_text().replace("1932", "1933"))  # same size
    os.utime(bridge, ns=(before.st_atime_ns, before.st_mtime_ns))
    run = run_rag("ask", "--corpus", str(corpus), QUESTION)
    assert_one_line_error(run, 1, "no longer says", "rag index --rebuild")
    assert run_rag("index", "--rebuild", "--corpus", str(corpus)).returncode == 0
    fixed = run_rag("ask", "--corpus", str(corpus), QUESTION)
    assert "1933" in fixed.stdout, fixed.stderr


# --- every wait ends ------------------------------------------------------------------------


def test_a_frozen_builder_is_reported_and_the_wait_ends(corpus: Path, tmp_path: Path) -> None:
    for n in range(40):  # enough to embed that the builder is caught holding the lock
        (corpus / f"filler{n}.txt").write_text("".join(
            f"Ferry number {n * 100 + k} leaves pier {k} at {k % 12 + 1} o'clock.\n"
            for k in range(100)))
    index = tmp_path / "index"
    env = {**os.environ, "RAG_INDEX_DIR": str(index)}
    builder = subprocess.Popen([str(RAG), "index", "--corpus", str(corpus)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + HANG_S
        while not _lock_is_held(index / "lock"):
            assert builder.poll() is None, "the build ended before it could be frozen"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        builder.send_signal(signal.SIGSTOP)
        for args in (["index"], ["ask", QUESTION]):  # a fresh index: ask waits for the build
            began = time.monotonic()
            run = run_rag(*args, "--corpus", str(corpus), env={"RAG_INDEX_DIR": str(index)})
            waiting = "rag: warning: another rag process is building the index; waiting for it\n"
            assert run.stderr.startswith(waiting) == (args[0] == "ask"), run.stderr
            run.stderr = run.stderr.removeprefix(waiting)
            line = assert_one_line_error(run, 1, f"locked by process {builder.pid} since",
                                         "has made no progress for")
            assert time.monotonic() - began < LOCK_STALL_S + 30, line
    finally:
        builder.send_signal(signal.SIGCONT)
        builder.kill()
        builder.wait()
    answers_the_known_question(corpus, env={"RAG_INDEX_DIR": str(index)})


def _lock_is_held(path: Path) -> bool:
    if not path.exists():
        return False
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_a_chat_goes_on_after_its_index_is_moved_aside_or_removed(
    corpus: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "harbour.txt").write_text("The harbour has four cranes and a lighthouse.\n")
    index = tmp_path / "index"
    chat = Chat("--corpus", str(corpus), env={"RAG_INDEX_DIR": str(index)})
    chat.send(QUESTION)
    chat.wait_for(r"^\[1\] bridge\.txt:3$")
    # Another corpus rebuilt in the same index folder moves the shared database aside.
    rebuilt = run_rag("index", "--rebuild", "--corpus", str(other),
                      env={"RAG_INDEX_DIR": str(index)})
    assert rebuilt.returncode == 0, rebuilt.stderr
    chat.send(QUESTION)
    chat.wait_for(r"^\[1\] bridge\.txt:3$")
    shutil.rmtree(index)
    chat.send(QUESTION)
    chat.wait_for(r"^\[1\] bridge\.txt:3$")
    assert chat.quit() == 0
    assert not any("error" in line for line in chat.stderr), chat.stderr
