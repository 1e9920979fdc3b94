"""The local backend for real: the fetched model (``rag local fetch``) under llama.cpp's
server from the xllamacpp wheel, started and stopped as a user would. These need the
model file; CI fetches it first and sets ``RAG_REQUIRE_LOCAL_MODEL=1``, so there a
missing model fails the run instead of skipping it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.local.model import MODEL_ALIAS, installed_model
from rag.local.server import READY
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MODEL = installed_model(Settings.from_env().model_dir)
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
