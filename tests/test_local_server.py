"""The local backend for real: the fetched model (``rag local fetch``) under llama.cpp's
server from the xllamacpp wheel, started and stopped as a user would. These need the
model file; CI fetches it first and sets ``RAG_REQUIRE_LOCAL_MODEL=1``, so there a
missing model fails the run instead of skipping it."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.local.model import MODEL_ALIAS, installed_model
from rag.local.options import LocalOptions
from rag.local.server import READY
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MODEL = installed_model(LocalOptions.of(Settings.from_env()).model_dir)
if MODEL is None and os.environ.get("RAG_REQUIRE_LOCAL_MODEL") == "1":
    raise RuntimeError("RAG_REQUIRE_LOCAL_MODEL=1 but the local model is not fetched")
pytestmark = [
    pytest.mark.skipif(MODEL is None, reason="the local model is not fetched (rag local fetch)"),
    pytest.mark.server,
    pytest.mark.allow_hosts(["127.0.0.1"]),
]
RAG = [sys.executable, "-m", "rag.cli"]


def _servers() -> set[int]:
    """PIDs of local model servers running now."""
    found = subprocess.run(["pgrep", "-f", "rag.local serve"], capture_output=True, text=True)
    return {int(pid) for pid in found.stdout.split()}


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen([*RAG, "local", "serve", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith(READY), line
    yield process, line.removeprefix(READY).split()[0]
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_url_answers_and_stops_cleanly(
    served: tuple[subprocess.Popen[str], str], sig: signal.Signals
) -> None:
    process, url = served
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/v1")
    with urllib.request.urlopen(f"{url}/models", timeout=30) as response:
        models = json.load(response)
    assert MODEL_ALIAS in {m["id"] for m in models["data"]}
    process.send_signal(sig)
    assert process.wait(30) == 0
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


def test_ask_with_the_local_backend_answers_with_citations_and_leaves_no_server() -> None:
    before = _servers()
    done = subprocess.run(
        [*RAG, "ask", "--backend", "local", "How many T-90 tanks did Egypt buy in July?"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "500" in done.stdout
    assert "[1] 001_8eb2f5025aa8eb43.txt:76" in done.stdout
    # The model's start is said, and how long it took, instead of a silence.
    assert "rag: starting the local model..." in done.stderr
    assert re.search(r"rag: local model ready in \d+ s", done.stderr), done.stderr
    time.sleep(1)
    assert _servers() <= before


def test_a_server_whose_parent_dies_stops_too() -> None:
    before = _servers()
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from rag.local.server import LocalServer;"
         f"print(LocalServer(Path({str(MODEL)!r})).base_url, flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert parent.stdout is not None
    assert parent.stdout.readline().startswith("http://127.0.0.1:")
    children = _servers() - before
    assert children
    parent.kill()  # no atexit, no clean-up: the child sees its stdin close
    parent.wait()
    deadline = time.monotonic() + 30
    while children & _servers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not children & _servers()


def _request(url: str, path: str, headers: dict[str, str] | None = None,
             body: dict[str, object] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One real HTTP request as a browser or a script would send it: status, headers,
    body."""
    host = url.removeprefix("http://").split("/")[0]
    connection = http.client.HTTPConnection(host, timeout=60)
    payload = json.dumps(body).encode() if body is not None else None
    sent = {"content-type": "application/json", **(headers or {})}
    connection.request("POST" if payload else "GET", path, body=payload, headers=sent)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


CHAT = {"messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 4}


def test_serve_answers_this_machine_only_and_reveals_no_path(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    _, url = served
    status, headers, _ = _request(url, "/v1/chat/completions", body=CHAT)
    assert status == 200
    # A web page's request (its Origin), and a DNS-rebinding page's (its Host), get nothing.
    for evil in ({"Origin": "http://evil.example"}, {"Host": "evil.example:80"}):
        status, headers, data = _request(url, "/v1/chat/completions", evil, CHAT)
        assert status == 403, data
        assert b"choices" not in data
        assert not any(name.startswith("access-control-") for name in headers)
    status, headers, _ = _request(url, "/v1/models", {"Origin": "http://127.0.0.1:3000"})
    assert status == 200
    assert "access-control-allow-origin" not in headers
    for path in ("/props", "/slots", "/"):
        assert _request(url, path)[0] == 404
    for path in ("/v1/models", "/health"):
        status, _, data = _request(url, path)
        assert status == 200
        assert str(MODEL.parent).encode() not in data  # type: ignore[union-attr]


def test_sigterm_during_a_request_ends_it_and_the_server_within_seconds(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = served
    host = url.removeprefix("http://").split("/")[0]
    connection = http.client.HTTPConnection(host, timeout=120)
    long = {"messages": [{"role": "user", "content": "Write a long essay about bridges."}],
            "max_tokens": 2000, "stream": True}
    connection.request("POST", "/v1/chat/completions", body=json.dumps(long).encode(),
                       headers={"content-type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.read1(100)  # it is generating
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    while response.read1(65536):  # the stream ends: the server closed it
        pass
    assert process.wait(15) == 0
    assert time.monotonic() - began < 15


def test_a_busy_port_or_an_impossible_one_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*RAG, "local", "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (f"rag: error: cannot listen on 127.0.0.1:{port} (Address "
                                   "already in use): choose another port with --port, or 0 "
                                   "for any free one")
    done = subprocess.run([*RAG, "local", "serve", "--port", "70000"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "a port is from 0 to 65535, got 70000" in done.stderr
    assert not done.stdout
