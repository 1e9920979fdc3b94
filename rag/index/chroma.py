"""Chroma: the client (an embedded database in the index folder, or a server at a host
and port), this corpus's collection of each level, and the records read back from them.
Every call goes through ``rag.faults.StoreFaults``."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.embeddings import EMBEDDING_DIM
from rag.errors import ConfigError, IndexBuildError
from rag.faults import StoreFaults
from rag.index.manifest import LEVELS, Level
from rag.index.records import Records

__all__ = ["ID_BATCH", "ChromaIndex"]

ID_BATCH = 5000
"""Record ids one Chroma read or delete names at most: far more in one call overflows the
number of variables SQLite takes in a statement."""


class ChromaIndex:
    """The Chroma collections of one corpus (``rag-<key>-<level>``) in one index folder or
    on one server."""

    def __init__(self, index_dir: Path, chroma_url: str | None, key: str,
                 faults: StoreFaults, timeout_s: float) -> None:
        self.index_dir = index_dir
        self.chroma_url = chroma_url
        self.key = key
        self.faults = faults
        self._timeout_s = timeout_s
        self._client: Any = None
        self._collections: dict[str, _Collection] | None = None
        self._opened: tuple[int, int] | None = None  # the database file the client opened

    @property
    def collections(self) -> dict[str, _Collection]:
        """The Chroma collections, opened on first use (so that ``rebuild`` can move a
        damaged index aside before anything opens it)."""
        if self._collections is not None and self._opened != self._chroma_file():
            # Moved aside by another process's rebuild, or deleted: the open client would
            # fail every call ("readonly database", code 1032) until the process restarts.
            self.close()
        if self._collections is None:
            with self.faults.call("open the index"):
                self._client = _open_client(self.index_dir, self.chroma_url, self._timeout_s)
                self._opened = self._chroma_file()
                self._collections = {
                    level: _Collection(self._client.get_or_create_collection(
                        f"rag-{self.key}-{level}",
                        embedding_function=None,
                        configuration={"hnsw": {"space": "cosine"}},
                    ), self.faults)
                    for level in LEVELS
                }
        return self._collections

    def _chroma_file(self) -> tuple[int, int] | None:
        """Which file the embedded database is now (device, inode); None on a server."""
        if self.chroma_url:
            return None
        try:
            st = (self.index_dir / "chroma" / "chroma.sqlite3").stat()
        except OSError:
            return (0, 0)
        return st.st_dev, st.st_ino

    def close(self) -> None:
        """Forget the open client; chromadb caches one engine per folder, so the cache
        entry goes too (the next open then reads the folder afresh)."""
        if self._client is not None and not self.chroma_url:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(
                getattr(self._client, "_identifier", ""), None)
        self._client = None
        self._collections = None

    def drop(self) -> None:
        """On a server: delete this corpus's collections."""
        from chromadb.errors import NotFoundError

        self.collections  # noqa: B018 (opens the client)
        for level in LEVELS:
            with contextlib.suppress(ValueError, NotFoundError):
                self._client.delete_collection(f"rag-{self.key}-{level}")

    def move_aside(self) -> None:
        """Embedded: move the Chroma folder aside (``chroma.damaged-<time>``, for a
        post-mortem; delete it at will)."""
        chroma = self.index_dir / "chroma"
        if chroma.exists():
            stamp = time.strftime("%Y%m%d-%H%M%S")
            os.replace(chroma, self.index_dir / f"chroma.damaged-{stamp}")

    def get(self, level: Level, ids: list[str], include: list[str]) -> Iterator[dict[str, Any]]:
        """Chroma's answer to reading the records ``ids`` of ``level`` (the fields in
        ``include``), ``ID_BATCH`` ids at a time."""
        for begin in range(0, len(ids), ID_BATCH):
            yield self.collections[level].get(ids=ids[begin : begin + ID_BATCH], include=include)

    def records(self, level: Level, ids: list[str], vectors: bool) -> Records:
        """The records ``ids`` of ``level`` as Chroma holds them, in that order (with their
        vectors if asked); an id Chroma lacks is an ``IndexBuildError``."""
        got: dict[str, tuple[str, dict[str, Any]]] = {}
        stored: dict[str, Any] = {}
        include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
        for batch in self.get(level, ids, include):
            for rid, text, meta in zip(
                batch["ids"], batch["documents"], batch["metadatas"], strict=True
            ):
                got[rid] = (text, meta)
            if vectors:
                stored.update(zip(batch["ids"], batch["embeddings"], strict=True))
        missing = [i for i in ids if i not in got]
        if missing:
            raise IndexBuildError(
                f"the index is missing {len(missing)} records its manifest names; "
                "`rag index` writes them again"
            )
        return Records(
            ids=ids,
            texts=[got[i][0] for i in ids],
            sources=[str(got[i][1]["source"]) for i in ids],
            start_lines=[int(got[i][1]["start_line"]) for i in ids],
            end_lines=[int(got[i][1]["end_line"]) for i in ids],
            contexts=[str(got[i][1].get("context", "")) for i in ids],
            vectors=(np.asarray([stored[i] for i in ids], dtype=np.float32)
                     .reshape(len(ids), EMBEDDING_DIM) if vectors else None),
        )


class _Collection:
    """A Chroma collection whose every call fails as a ``RagError`` (``StoreFaults``)."""

    def __init__(self, collection: Any, faults: StoreFaults) -> None:
        self._collection = collection
        self._faults = faults

    def get(self, **kwargs: Any) -> Any:
        with self._faults.call("read the index"):
            return self._collection.get(**kwargs)

    def query(self, **kwargs: Any) -> Any:
        with self._faults.call("search the index"):
            return self._collection.query(**kwargs)

    def count(self) -> int:
        with self._faults.call("read the index"):
            return int(self._collection.count())

    def upsert(self, **kwargs: Any) -> None:
        with self._faults.call("write the index"):
            self._collection.upsert(**kwargs)

    def delete(self, **kwargs: Any) -> None:
        with self._faults.call("write the index"):
            self._collection.delete(**kwargs)


def _open_client(index_dir: Path, chroma_url: str | None, timeout_s: float) -> Any:
    """Chroma's client; raises what Chroma raises (``StoreFaults`` translates it)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not chroma_url:
        index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)
    import httpx

    host, port = _host_port(chroma_url)
    # The client asks the server things as it is made, with no timeout: a frozen server
    # must fail this heartbeat instead.
    httpx.get(f"http://{host}:{port}/api/v2/heartbeat", timeout=timeout_s).raise_for_status()
    try:
        client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
    except ValueError as exc:  # chromadb's word for "no server answered the heartbeat"
        raise IndexBuildError(f"cannot reach the Chroma server at {chroma_url}: {exc}") from exc
    # chromadb 1.5 gives its HTTP session no timeout, so a frozen server would block a
    # question for ever; every server call gets RAG_TIMEOUT instead.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is None:
        raise IndexBuildError("this chromadb version's HTTP client cannot be given a timeout")
    session.timeout = httpx.Timeout(timeout_s)
    return client


def _host_port(url: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        raise ConfigError(f"RAG_CHROMA_URL {url!r} has no host")
    return parts.hostname, parts.port or 8000
