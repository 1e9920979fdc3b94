"""The fault battery: real faults, recreated for real, each asserting what the user sees
(the exit code, one ``rag: error:`` line, no traceback), that nothing hangs past its
deadline, and that the last complete index still answers a known question with the same
citations.

A real ``chroma run`` is killed and frozen (SIGSTOP); real HTTP servers on 127.0.0.1 drip,
hang and break their streams; a full disk is a real write limit (``RLIMIT_FSIZE``, so the
kernel refuses the write as a full disk would); the sqlite file is truncated and
scribbled on; the command line gets bytes that are not UTF-8. Commands run as
subprocesses of the installed ``rag`` script wherever a crash, a hang or a traceback is
what could go wrong.
"""

from __future__ import annotations

import fcntl
import os
import queue
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import rag
import rag.cli
from rag.answer.llm.openai import OpenAIChat
from rag.engine import VAGUE_TEXT, Engine
from rag.errors import ConfigError, IndexBuildError, LLMError
from rag.settings import Settings
from tests.chroma_server import chroma_server

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

RAG = Path(sys.executable).with_name("rag")
BRIDGE = "Bridges\n\nThe bridge over the river was built in 1932.\n"
HARBOUR = "Harbours\n\nThe harbour has four cranes and a lighthouse.\n"
QUESTION = "When was the bridge built?"
CITED = ["[1] bridge.txt:3"]
HANG_S = 120  # no command here may take longer: past it a hang fails the test


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "bridge.txt").write_text(BRIDGE)
    return folder


def run_rag(*args: str | bytes, env: dict[str, str] | None = None, stdin: bytes = b"",
            limit_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    """The installed ``rag`` in a fresh process; ``limit_bytes`` caps the size any file it
    writes may reach (the kernel then refuses the write, as on a full disk)."""

    def limit() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    done = subprocess.run(
        [os.fsencode(RAG), *(a if isinstance(a, bytes) else os.fsencode(a) for a in args)],
        input=stdin, capture_output=True, timeout=HANG_S, env={**os.environ, **(env or {})},
        preexec_fn=limit,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
    )


def assert_one_line_error(run: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The command failed with ``code`` and said so in one line holding ``words`` (after
    any progress lines, and the usage lines for an argument the parser refused)."""
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == code, run.stderr
    # Progress lines ("rag: embedding 0/1444 records") may come first.
    lines = [line for line in run.stderr.strip().splitlines()
             if not line.startswith("rag: embedding ")]
    if lines[0].startswith("usage: "):
        lines = [line for line in lines if not line.startswith(("usage: ", " "))]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("rag: error: "), run.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def citations(stdout: str) -> list[str]:
    return re.findall(r"^\[\d+\] \S+:\d+(?:-\d+)?$", stdout, flags=re.M)


def answers_the_known_question(corpus: Path, **kwargs: object) -> None:
    run = run_rag("ask", "--corpus", str(corpus), QUESTION, **kwargs)  # type: ignore[arg-type]
    assert run.returncode == 0, run.stderr
    assert citations(run.stdout) == CITED
    assert "1932" in run.stdout


# --- the Chroma server dies or freezes --------------------------------------------------


class Chat:
    """``rag chat`` in a subprocess, fed one line at a time; its output read as it comes."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [str(RAG), "chat", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
            # Ctrl-C as a terminal sends it, even when these tests run as a background job
            # (a shell starts those with SIGINT ignored, and a child inherits that).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.out: queue.Queue[tuple[str, str]] = queue.Queue()
        self.stderr: list[str] = []
        for name, stream in (("out", self.process.stdout), ("err", self.process.stderr)):
            threading.Thread(target=self._pump, args=(name, stream), daemon=True).start()

    def _pump(self, name: str, stream: object) -> None:
        for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
            line = raw.decode(errors="replace").rstrip("\n")
            if name == "err":
                self.stderr.append(line)
            self.out.put((name, line))

    def send(self, line: bytes | str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line if isinstance(line, bytes) else line.encode())
        self.process.stdin.write(b"\n")
        self.process.stdin.flush()

    def wait_for(self, pattern: str, timeout: float = HANG_S) -> str:
        """The next line (stdout or stderr) matching ``pattern``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matched {pattern!r}; stderr: {self.stderr}")
            try:
                _, line = self.out.get(timeout=left)
            except queue.Empty:
                continue
            if re.search(pattern, line):
                return line

    def quit(self) -> int:
        self.send(":quit")
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=HANG_S)


@pytest.mark.server
def test_a_killed_chroma_server_is_one_line_and_the_chat_goes_on(
    corpus: Path, tmp_path: Path
) -> None:
    with chroma_server(tmp_path / "chroma") as (url, server):
        env = {"RAG_CHROMA_URL": url}
        chat = Chat("--corpus", str(corpus), env=env)
        chat.send(QUESTION)
        assert chat.wait_for(r"^\[1\] ") == CITED[0]
        server.kill()
        server.wait()
        # What the session read from the server (texts and vectors of the last index
        # version) still answers; a changed corpus cannot be indexed without the server,
        # and the session says so, answering from the index it has.
        chat.send(QUESTION)
        assert chat.wait_for(r"^\[1\] ") == CITED[0]
        (corpus / "river.txt").write_text("The river floods in spring.\n")
        chat.send(QUESTION)
        warning = chat.wait_for(r"^rag: warning: ")
        assert f"cannot reach the Chroma server at {url}" in warning
        assert "answering from the last complete index" in warning
        assert chat.wait_for(r"^\[1\] ") == CITED[0]
        chat.send(QUESTION)  # the session is still there
        assert chat.wait_for(r"^\[1\] ") == CITED[0]
        assert chat.quit() == 0
        assert not any("Traceback" in line for line in chat.stderr), chat.stderr
        run = run_rag("ask", "--corpus", str(corpus), QUESTION, env=env)
        assert_one_line_error(run, 1, "cannot reach the Chroma server")


@pytest.mark.server
def test_a_frozen_chroma_server_times_out_instead_of_hanging(
    corpus: Path, tmp_path: Path, make_engine: Callable[..., Engine], index_dir: Path
) -> None:
    with chroma_server(tmp_path / "chroma") as (url, server):
        env = {"RAG_CHROMA_URL": url, "RAG_TIMEOUT": "2"}
        answers_the_known_question(corpus, env=env)
        server.send_signal(signal.SIGSTOP)
        try:
            run = run_rag("ask", "--corpus", str(corpus), QUESTION, env=env)
            assert_one_line_error(run, 1, f"the Chroma server at {url} did not answer within 2 s")
            engine = make_engine(corpus, index_dir, chroma_url=url, timeout_s=2)
            with pytest.raises(IndexBuildError, match="did not answer within 2 s"):
                engine.ask(QUESTION)
        finally:
            server.send_signal(signal.SIGCONT)
        answers_the_known_question(corpus, env=env)


# --- LLM endpoints that drip, hang, flood and break -------------------------------------


class _Misbehaving(BaseHTTPRequestHandler):
    server: MisbehavingServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.server.asked.set()
        manner = self.server.manner
        if manner == "hang":  # take the request, say nothing
            self.server.release.wait(HANG_S)
            return
        if manner == "retry-later":
            self._head(429, "application/json", {"retry-after": "3600"})
            self.wfile.write(b'{"error": {"message": "slow down"}}')
            return
        if manner == "broken-stream":
            self._head(200, "text/event-stream")
            self.wfile.write(b'data: {"id": "x", "choices": [{"delta": {"content": "The"}}]}\n\n'
                             b"data: {this is not json\n\n")
            return
        if manner in ("flood", "endless-line"):  # as fast as it can, for ever
            streamed = manner == "endless-line"
            self._head(200, "text/event-stream" if streamed else "application/json")
            self.wfile.write(b'data: {"choices": [{"delta": {"content": "' if streamed
                             else b'{"choices": [{"message": {"content": "')
            block = b"x" * 65536
            while not self.server.release.is_set():
                try:
                    self.wfile.write(block)
                except OSError:
                    return
            return
        # drip: a well-formed beginning, then one byte a second for ever
        self._head(200, "application/json", {"content-length": "100000"})
        while not self.server.release.is_set():
            try:
                self.wfile.write(b" ")
                self.wfile.flush()
            except OSError:
                return
            self.server.release.wait(1.0)

    def _head(self, status: int, kind: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "content-length" not in (headers or {}):
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


class MisbehavingServer(ThreadingHTTPServer):
    daemon_threads = True
    manner: str
    asked: threading.Event
    release: threading.Event


@contextmanager
def misbehaving(manner: str) -> Iterator[MisbehavingServer]:
    httpd = MisbehavingServer(("127.0.0.1", 0), _Misbehaving)
    httpd.manner, httpd.asked, httpd.release = manner, threading.Event(), threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()


def base_url(httpd: MisbehavingServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}/v1"


@pytest.mark.parametrize("manner", ["drip", "hang"])
@pytest.mark.parametrize("streamed", [False, True])
def test_rag_timeout_is_a_deadline_for_the_whole_request(manner: str, streamed: bool) -> None:
    with misbehaving(manner) as httpd:
        chat = OpenAIChat(Settings(timeout_s=2, options={
            "base_url": base_url(httpd), "model": "m", "max_retries": 3}))
        messages = [{"role": "user", "content": "Hi"}]
        ask: Callable[[], object] = (
            (lambda: "".join(chat.stream(messages))) if streamed
            else (lambda: chat.complete(messages))
        )
        began = time.monotonic()
        with pytest.raises(LLMError, match="within 2 s"):
            ask()
        # Retries included, it gave up about when the deadline passed, not minutes later
        # (a read timeout alone would start again at every dripped byte).
        assert time.monotonic() - began < 2 + 10


def test_a_retry_after_past_the_deadline_is_said_at_once(corpus: Path) -> None:
    with misbehaving("retry-later") as httpd:
        run = run_rag("ask", "--corpus", str(corpus), "--backend", "openai", "--base-url",
                      base_url(httpd), QUESTION, env={"RAG_TIMEOUT": "20"})
    assert_one_line_error(run, 1, "asks to wait 3600 s, longer than the 20 s RAG_TIMEOUT")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "soon"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_bad_input(
    corpus: Path, value: str
) -> None:
    run = run_rag("ask", "--corpus", str(corpus), QUESTION, env={"RAG_TIMEOUT": value})
    assert_one_line_error(run, 2, "RAG_TIMEOUT" if value in ("nan", "inf", "soon") else "timeout")


def test_a_broken_stream_ends_one_answer_not_the_chat(corpus: Path) -> None:
    with misbehaving("broken-stream") as httpd:
        chat = Chat("--corpus", str(corpus), "--backend", "openai", "--base-url",
                    base_url(httpd), env={"RAG_TIMEOUT": "20", "RAG_STRUCTURED": "0"})
        chat.send(QUESTION)
        assert "malformed stream" in chat.wait_for(r"^rag: error: ")
        chat.send(QUESTION)
        chat.wait_for(r"^rag: error: ")
        assert chat.quit() == 0
    assert not any("Traceback" in line for line in chat.stderr), chat.stderr


def test_ctrl_c_cancels_the_answer_not_the_chat(corpus: Path) -> None:
    with misbehaving("hang") as httpd:
        chat = Chat("--corpus", str(corpus), "--backend", "openai", "--base-url",
                    base_url(httpd), env={"RAG_TIMEOUT": "100"})
        chat.send(QUESTION)
        assert httpd.asked.wait(HANG_S), "the chat never asked the endpoint"
        chat.process.send_signal(signal.SIGINT)
        chat.wait_for(r"answer cancelled")
        chat.send(":help")  # still there
        chat.wait_for(r"^Type a question")
        assert chat.quit() == 0
    assert not any("Traceback" in line for line in chat.stderr), chat.stderr


# --- a full disk ---------------------------------------------------------------------------


def test_a_full_disk_mid_build_keeps_the_last_index_answering(
    corpus: Path, tmp_path: Path
) -> None:
    answers_the_known_question(corpus)  # builds the index
    index = Path(os.environ["RAG_INDEX_DIR"])
    manifests = {p: p.read_bytes() for p in index.glob("manifest-*.json")}
    (corpus / "harbour.txt").write_text(HARBOUR)
    for n in range(40):  # enough new text that the build must grow the sqlite file
        (corpus / f"extra{n:02}.txt").write_text(
            "\n".join(f"Ferry {n}-{i} sails at {i} o'clock from pier {n}." for i in range(30))
        )
    full = (index / "chroma" / "chroma.sqlite3").stat().st_size + 64 * 1024

    build = run_rag("index", "--corpus", str(corpus), limit_bytes=full)
    assert_one_line_error(build, 1, "the last complete index is unchanged")
    assert {p: p.read_bytes() for p in index.glob("manifest-*.json")} == manifests

    # With the disk still full, a question is answered from the last complete index.
    ask = run_rag("ask", "--corpus", str(corpus), QUESTION, limit_bytes=full)
    assert ask.returncode == 0, ask.stderr
    assert citations(ask.stdout) == CITED
    warning = [line for line in ask.stderr.splitlines() if line.startswith("rag: warning: ")]
    assert len(warning) == 1, ask.stderr
    assert warning[0].startswith("rag: warning: the index could not be updated")
    assert warning[0].endswith("answering from the last complete index")
    assert "Traceback" not in ask.stderr

    # Space back: the next build finishes and the new files are found.
    assert run_rag("index", "--corpus", str(corpus)).returncode == 0
    run = run_rag("ask", "--corpus", str(corpus), "How many cranes has the harbour?")
    assert citations(run.stdout) == ["[1] harbour.txt:3"]


def test_a_build_killed_mid_way_resumes_where_it_stopped(corpus: Path) -> None:
    answers_the_known_question(corpus)
    # Nothing here competes with the bridge, and no town's count is another town's
    # number: with "Town 414 has 417 bakeries" beside "Town 417 has 420", the question
    # about Town 417 was a near tie that the order records were written in (where the
    # kill fell) could tip either way.
    towns = [f"Town {n} has {n + 1000} bakeries and {n % 7 + 1} ferries." for n in range(900)]
    (corpus / "towns.txt").write_text("\n".join(towns) + "\n")
    build = subprocess.Popen([str(RAG), "index", "--corpus", str(corpus)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert build.stderr is not None
    for raw in build.stderr:  # off a terminal, progress comes a line a tenth
        if re.match(rb"rag: embedding [1-9]\d*/", raw):
            break
    build.kill()  # SIGKILL: no clean-up runs
    build.wait(timeout=HANG_S)
    again = run_rag("index", "--corpus", str(corpus))
    assert again.returncode == 0, again.stderr
    counts = re.search(r"(\d+) chunks, (\d+) sentences; embedded (\d+)", again.stdout)
    assert counts is not None, again.stdout
    chunks, sentences, embedded = map(int, counts.groups())
    # What the killed build had written is kept; only the rest is embedded.
    assert 0 < embedded < chunks + sentences - 100
    answers_the_known_question(corpus)
    run = run_rag("ask", "--corpus", str(corpus), "How many bakeries has Town 417?")
    assert citations(run.stdout)[0] == "[1] towns.txt:418"


# --- a damaged index -----------------------------------------------------------------------


def _truncate(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 3)


def _scribble(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.seek(path.stat().st_size // 4)
        handle.write(b"\x00scribble" * 4000)


@pytest.mark.parametrize("damage", [_truncate, _scribble], ids=["truncated", "scribbled"])
def test_a_damaged_index_says_how_to_fix_it_and_rebuild_fixes_it(
    corpus: Path, damage: Callable[[Path], None]
) -> None:
    answers_the_known_question(corpus)
    index = Path(os.environ["RAG_INDEX_DIR"])
    damage(index / "chroma" / "chroma.sqlite3")

    # A question reads the records the last build committed from their copy, not Chroma.
    answers_the_known_question(corpus)
    # A build reads Chroma, finds the damage and says what to do.
    run = run_rag("index", "--corpus", str(corpus))
    assert_one_line_error(run, 1, "is damaged", "rag index --rebuild")
    # Without the copy, so does a question.
    copies = list(index.glob("records-*.npz"))
    assert len(copies) == 1
    copies[0].unlink()
    run = run_rag("ask", "--corpus", str(corpus), QUESTION)
    assert_one_line_error(run, 1, "is damaged", "rag index --rebuild")

    rebuilt = run_rag("index", "--rebuild", "--corpus", str(corpus))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "embedded" in rebuilt.stdout
    assert [p.name.split("-")[0] for p in index.glob("chroma.damaged-*")] == ["chroma.damaged"]
    answers_the_known_question(corpus)


@pytest.mark.parametrize(
    ("raised", "words"),
    [
        ("error returned from database: (code: 8) attempt to write a readonly database",
         "is read-only"),
        ("error returned from database: (code: 11) database disk image is malformed",
         "rag index --rebuild"),
        ("error returned from database: (code: 13) database or disk is full",
         "no space left"),
        ("error returned from database: (code: 778) disk I/O error", "is it full?"),
    ],
)
def test_what_chroma_says_becomes_what_to_do(tmp_path: Path, raised: str, words: str) -> None:
    # The wording Chroma's engine gives for each fault seen here (the read-only case:
    # an index folder mounted read-only; chromadb 1.5 writes to it even to open it).
    import chromadb.errors

    from rag.faults import StoreFaults

    error = StoreFaults(tmp_path).translate(chromadb.errors.InternalError(raised), "open it")
    assert isinstance(error, IndexBuildError)
    assert words in str(error)
    assert StoreFaults(tmp_path).translate(ValueError("a bug"), "open it") is None


# --- readers do not write ----------------------------------------------------------------


@contextmanager
def build_lock_held(index: Path) -> Iterator[None]:
    """The build lock, held as a running ``rag index`` holds it."""
    index.mkdir(parents=True, exist_ok=True)
    with open(index / "lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def test_a_question_over_a_fresh_index_writes_nothing_and_waits_for_no_build(
    corpus: Path,
) -> None:
    answers_the_known_question(corpus)
    index = Path(os.environ["RAG_INDEX_DIR"])
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in index.glob("manifest-*")}
    with build_lock_held(index):  # a build elsewhere does not block a reader
        answers_the_known_question(corpus)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in index.glob("manifest-*")} == before


def test_during_a_build_a_stale_index_answers_and_says_so(corpus: Path) -> None:
    answers_the_known_question(corpus)
    (corpus / "harbour.txt").write_text(HARBOUR)
    index = Path(os.environ["RAG_INDEX_DIR"])
    with build_lock_held(index):
        run = run_rag("ask", "--corpus", str(corpus), QUESTION)
    assert run.returncode == 0, run.stderr
    assert citations(run.stdout) == CITED
    assert run.stderr == ("rag: warning: another rag process is updating the index; "
                          "answering from the last complete index\n")
    run = run_rag("ask", "--corpus", str(corpus), "How many cranes has the harbour?")
    assert citations(run.stdout) == ["[1] harbour.txt:3"]


# --- hostile input ---------------------------------------------------------------------


def test_bytes_that_are_not_utf8_are_bad_input_and_the_chat_goes_on(corpus: Path) -> None:
    run = run_rag("ask", "--corpus", str(corpus), b"\xff\xfe when was it built?")
    assert_one_line_error(run, 2, "not valid UTF-8")
    chat = run_rag("chat", "--corpus", str(corpus),
                   stdin=b"\xff\xfe when?\n" + QUESTION.encode() + b"\n:quit\n")
    assert chat.returncode == 0, chat.stderr
    assert "rag: error: the question is not valid UTF-8 text" in chat.stderr
    assert "Traceback" not in chat.stderr
    assert citations(chat.stdout) == CITED


@pytest.mark.parametrize("question", ["what is it?", "???", "🚀🚀🚀", "the", "Why?"])
@pytest.mark.parametrize("backend", ["extractive", "openai"])
def test_a_question_that_names_nothing_is_refused_asking_for_one_that_does(
    seeds_engine: Engine, question: str, backend: str
) -> None:
    # The openai backend has no endpoint here: it is never reached.
    answer = seeds_engine.ask(question, backend=backend, base_url="http://127.0.0.1:9/v1")
    assert answer.refused
    assert answer.text == VAGUE_TEXT
    streamed = list(seeds_engine.ask_stream(question, backend=backend,
                                            base_url="http://127.0.0.1:9/v1"))
    assert streamed == [answer]


def test_a_footnote_mark_in_a_file_is_quoted_not_taken_for_a_marker(corpus: Path) -> None:
    (corpus / "bridge.txt").write_text(
        "Bridges\n\nThe bridge over the river was built in 1932 [2].\n")
    answer = rag.ask(QUESTION, corpus=corpus)
    assert answer.text == "The bridge over the river was built in 1932 \uff3b2\uff3d. [1]"
    assert answer.citations[0].quote.endswith("1932 [2].")


def test_terminal_escapes_and_newlines_from_files_reach_no_terminal(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (corpus / "bridge.txt").write_text(
        "Bridges\n\n\x1b]0;pwned\x07\x1b[2JThe bridge over the river was built in 1932.\n")
    (corpus / "odd\nname.txt").write_text("Harbours\n\nThe harbour has four cranes.\n")
    assert rag.cli.main(["ask", "--corpus", str(corpus), QUESTION]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\\x1b]0;pwned\\x07\\x1b[2JThe bridge" in out
    assert rag.cli.main(["ask", "--corpus", str(corpus), "How many cranes has the harbour?"]) == 0
    out = capsys.readouterr().out
    assert "[1] odd\\nname.txt:3\n" in out


@pytest.mark.parametrize(
    ("argv", "env", "words"),
    [
        (["ask", "--corpus", "", QUESTION], {}, "folder name is empty"),
        (["ask", QUESTION], {"RAG_CHROMA_URL": "http://:8000"}, "URL with a host"),
        (["ask", "--corpus", "LOOP", QUESTION], {}, "cannot be opened"),
    ],
    ids=["empty-corpus", "chroma-url-without-host", "symlink-loop"],
)
def test_impossible_settings_exit_2_in_one_line(
    argv: list[str], env: dict[str, str], words: str, tmp_path: Path
) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    run = run_rag(*[str(loop) if a == "LOOP" else a for a in argv], env=env)
    assert_one_line_error(run, 2, words)


def test_the_api_says_which_argument_is_wrong(corpus: Path) -> None:
    with pytest.raises(ConfigError, match="top_k must be an integer, got '5'"):
        rag.ask(QUESTION, corpus=corpus, top_k="5")  # type: ignore[arg-type]
    with pytest.raises(rag.QuestionError, match="must be a str"):
        rag.ask(b"When?", corpus=corpus)  # type: ignore[arg-type]

