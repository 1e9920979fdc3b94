"""Shared fixtures. Sockets are blocked for every test (``--disable-socket`` in
pyproject.toml): nothing here may reach a network, and a test that tries fails."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rag.api
from rag.embeddings import MiniLMEmbedder
from rag.engine import Engine
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """One loaded model for the whole run (loading takes about a second)."""
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def seeds_engine(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Engine:
    """An engine over a private copy of seeds/, indexed once per run."""
    corpus = tmp_path_factory.mktemp("seeds") / "seeds"
    shutil.copytree(SEEDS, corpus)
    index_dir = tmp_path_factory.mktemp("index")
    engine = Engine(Settings(corpus=corpus, index_dir=index_dir), embedder=embedder)
    engine.build()
    return engine


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """An empty corpus folder to fill."""
    path = tmp_path / "corpus"
    path.mkdir()
    return path


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    """No test reads the developer's RAG_* settings or writes .rag/ in the work tree, and
    engines made through the public API share the session's loaded model."""
    for name in (
        "RAG_CORPUS",
        "RAG_INDEX_DIR",
        "RAG_TOP_K",
        "RAG_BACKEND",
        "RAG_CHROMA_URL",
        "RAG_MODEL",
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "api-index"))
    monkeypatch.setattr(rag.api, "_engines", {})
    monkeypatch.setattr(rag.api, "_new_engine", lambda s: Engine(s, embedder=embedder))


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


@pytest.fixture
def write_files() -> Callable[[Path, dict[str, str | bytes]], Path]:
    """Write ``{relative path: text or bytes}`` under a folder (creating subfolders)."""
    return _write


@pytest.fixture(scope="session")
def built_engine(
    tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder
) -> Callable[[dict[str, str | bytes]], Engine]:
    """An engine over a new folder of ``{relative path: text or bytes}``, indexed: the
    small corpora a test module asks questions of."""

    def build(files: dict[str, str | bytes]) -> Engine:
        corpus = _write(tmp_path_factory.mktemp("corpus"), files)
        engine = Engine(Settings(corpus=corpus, index_dir=tmp_path_factory.mktemp("index")),
                        embedder=embedder)
        engine.build()
        return engine

    return build


@pytest.fixture
def make_engine(embedder: MiniLMEmbedder) -> Callable[..., Engine]:
    """An engine over ``corpus`` and ``index_dir`` that shares the session's model."""

    def make(corpus: Path, index_dir: Path, **settings: Any) -> Engine:
        return Engine(Settings(corpus=corpus, index_dir=index_dir, **settings), embedder=embedder)

    return make
