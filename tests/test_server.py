"""Server mode: the index lives in a real ``chroma run`` server on 127.0.0.1, the manifest
stays in the local index folder. Sockets are allowed to loopback only."""

from __future__ import annotations

import socket
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
from tests.chroma_server import chroma_server, free_port

pytestmark = [pytest.mark.server, pytest.mark.allow_hosts(["127.0.0.1"])]

WriteFiles = Callable[[Path, dict[str, str | bytes]], Path]
MakeEngine = Callable[..., Engine]

BRIDGE = "Title\n\nThe bridge over the river was built in 1932.\n"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``chroma run`` server on a free loopback port for this module's tests."""
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as (url, _):
        yield url


def http_client(url: str) -> chromadb.api.ClientAPI:
    host, port = url.removeprefix("http://").split(":")
    return chromadb.HttpClient(
        host=host, port=int(port), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )


def assert_server_holds_exactly_the_live_records(chroma_url: str, engine: Engine) -> None:
    server = http_client(chroma_url)
    manifest = engine.store.read_manifest()
    for level in LEVELS:
        stored = server.get_collection(f"rag-{engine.store.key}-{level}").get(include=[])["ids"]
        assert set(stored) == manifest.live_ids(level)


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
    assert not engine.store.copy_path.exists()  # questions read the server's records


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
    assert_server_holds_exactly_the_live_records(chroma_url, engine)
    answer = engine.ask("When was the bridge rebuilt?")
    assert "1951" in answer.citations[0].quote


def test_rebuild_on_the_server_drops_and_rewrites_this_corpus_only(
    chroma_url: str,
    tmp_path: Path,
    index_dir: Path,
    write_files: WriteFiles,
    make_engine: MakeEngine,
) -> None:
    ours = write_files(tmp_path / "ours", {"a.txt": BRIDGE})
    theirs = write_files(tmp_path / "theirs", {"b.txt": "The harbour has four cranes.\n"})
    engine = make_engine(ours, index_dir, chroma_url=chroma_url)
    other = make_engine(theirs, index_dir, chroma_url=chroma_url)
    first = engine.build()
    other.build()
    stats = engine.build(rebuild=True)
    assert stats.embedded == first.embedded  # everything written again
    assert_server_holds_exactly_the_live_records(chroma_url, engine)
    assert engine.ask("When was the bridge built?").citations[0].start_line == 3
    assert other.build().embedded == 0  # the other corpus was not touched
    assert other.ask("How many cranes has the harbour?").citations[0].source == "b.txt"


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
    url = f"http://127.0.0.1:{free_port()}"
    engine = make_engine(corpus, index_dir, chroma_url=url)  # opened on first use
    with pytest.raises(IndexBuildError, match=f"cannot reach the Chroma server at {url}"):
        engine.build()


@pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")
def test_only_loopback_is_reachable() -> None:
    with pytest.raises(pytest_socket.SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.5)
