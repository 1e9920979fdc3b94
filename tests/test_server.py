"""Server mode: the index lives in a real ``chroma run`` server on 127.0.0.1, the manifest
stays in the local index folder. Sockets are allowed to loopback only."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import chromadb
import chromadb.config
import pytest
import pytest_socket

import rag
from rag.engine import Engine
from rag.errors import IndexBuildError
from rag.store import LEVELS

pytestmark = [pytest.mark.server, pytest.mark.allow_hosts(["127.0.0.1"])]

WriteFiles = Callable[[Path, dict[str, str | bytes]], Path]
MakeEngine = Callable[..., Engine]

BRIDGE = "Title\n\nThe bridge over the river was built in 1932.\n"
STARTUP_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_heartbeat(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    try:
        with opener.open(f"{url}/api/v2/heartbeat", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``chroma run`` server on a free loopback port for this module's tests."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.fail(f"no chroma console script next to {sys.executable}")
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(data / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_S
        while not answers_heartbeat(url):
            if server.poll() is not None or time.monotonic() > deadline:
                log_text = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(
                    f"chroma run did not answer on {url} (exit code {server.poll()}):\n{log_text}"
                )
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def http_client(url: str) -> chromadb.api.ClientAPI:
    host, port = url.removeprefix("http://").split(":")
    return chromadb.HttpClient(
        host=host, port=int(port), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )


def test_build_and_ask_through_the_server(
    chroma_url: str,
    tmp_path: Path,
    index_dir: Path,
    write_files: WriteFiles,
    make_engine: MakeEngine,
) -> None:
    corpus = write_files(
        tmp_path / "corpus", {"a.txt": BRIDGE, "b.md": "The harbour has cranes.\n"}
    )
    engine = make_engine(corpus, index_dir, chroma_url=chroma_url)
    stats = engine.build()
    assert stats.files == 2
    assert stats.embedded == stats.chunks + stats.sentences

    answer = engine.ask("When was the bridge built?")
    assert not answer.refused
    assert [(c.source, c.start_line) for c in answer.citations] == [("a.txt", 3)]
    assert answer.citations[0].quote == "The bridge over the river was built in 1932."

    # The records live in the server; only the manifest is local.
    server = http_client(chroma_url)
    names = {c.name for c in server.list_collections()}
    key = engine.store.key
    assert {f"rag-{key}-chunks", f"rag-{key}-sentences"} <= names
    assert server.get_collection(f"rag-{key}-chunks").count() == stats.chunks
    assert server.get_collection(f"rag-{key}-sentences").count() == stats.sentences
    assert engine.store.manifest_path.is_file()
    assert not (index_dir / "chroma").exists()


def test_incremental_build_on_the_server(
    chroma_url: str,
    tmp_path: Path,
    index_dir: Path,
    write_files: WriteFiles,
    make_engine: MakeEngine,
) -> None:
    corpus = write_files(
        tmp_path / "corpus", {"a.txt": BRIDGE, "b.md": "The harbour has cranes.\n"}
    )
    engine = make_engine(corpus, index_dir, chroma_url=chroma_url)
    engine.build()
    assert engine.build().embedded == 0
    (corpus / "a.txt").write_text("Title\n\nThe bridge over the river was rebuilt in 1951.\n")
    (corpus / "b.md").unlink()
    stats = engine.build()
    assert stats.updated == ["a.txt"]
    assert stats.removed == ["b.md"]
    server = http_client(chroma_url)
    manifest = engine.store.read_manifest()
    for level in LEVELS:
        stored = server.get_collection(f"rag-{engine.store.key}-{level}").get(include=[])["ids"]
        assert set(stored) == manifest.live_ids(level)
    answer = engine.ask("When was the bridge rebuilt?")
    assert "1951" in answer.citations[0].quote


def test_public_api_reads_the_server_url_from_the_environment(
    chroma_url: str,
    tmp_path: Path,
    write_files: WriteFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = write_files(tmp_path / "corpus", {"a.txt": BRIDGE})
    monkeypatch.setenv("RAG_CHROMA_URL", chroma_url)
    answer = rag.ask("When was the bridge built?", corpus=corpus)
    assert [(c.source, c.start_line) for c in answer.citations] == [("a.txt", 3)]
    assert not (tmp_path / "api-index" / "chroma").exists()


def test_unreachable_server_is_an_index_build_error(
    tmp_path: Path, index_dir: Path, write_files: WriteFiles, make_engine: MakeEngine
) -> None:
    corpus = write_files(tmp_path / "corpus", {"a.txt": BRIDGE})
    with pytest.raises(IndexBuildError, match="cannot open the Chroma index"):
        make_engine(corpus, index_dir, chroma_url=f"http://127.0.0.1:{free_port()}")


@pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")
def test_only_loopback_is_reachable() -> None:
    with pytest.raises(pytest_socket.SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.5)
