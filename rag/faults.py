"""The one place where failures of the parts the index stands on (Chroma's embedded
engine and its HTTP client, sqlite, the operating system) become ``RagError``s that say
what happened and what to do.

Every call rag makes into Chroma runs inside ``StoreFaults.call``; nothing from chromadb,
httpx, sqlite3 or ``OSError`` escapes it. The kinds a user can act on get their own
message: a server that is down or does not answer in time, a full disk, index files that
cannot be read (with the command that rebuilds them).
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import IndexBuildError, IndexDamagedError, RagError

__all__ = ["REBUILD_HINT", "StoreFaults"]

REBUILD_HINT = "`rag index --rebuild` moves the damaged index aside and builds it again"

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# What sqlite and Chroma's engine say about files they cannot make sense of.
_DAMAGED_WORDS = (
    "malformed",
    "not a database",
    "no such table",
    "no such column",
    "failed to pull logs",
    "corrupt",
)
_READ_ONLY_WORDS = ("readonly database", "read-only file system", "read-only database")
_FULL_WORDS = ("database or disk is full", "no space left", "file too large", "disk quota")


@dataclass(frozen=True)
class StoreFaults:
    """Turns failures of one index's Chroma (a folder, or a server at ``url``) into
    ``RagError``s; ``timeout_s`` is the deadline each server call was given."""

    index_dir: Path
    url: str | None = None
    timeout_s: float | None = None

    @contextlib.contextmanager
    def call(self, action: str) -> Iterator[None]:
        """Run Chroma calls that ``action`` (``"read the index"``, ...) names."""
        try:
            yield
        except RagError:
            raise
        except Exception as exc:
            error = self.translate(exc, action)
            if error is None:
                raise
            raise error from exc

    def translate(self, exc: BaseException, action: str) -> RagError | None:
        """The ``RagError`` for ``exc``, or None when it is not a store failure (a bug).
        chromadb sometimes fails while cleaning up after a store failure (an
        ``AttributeError`` raised while handling a sqlite error); the store failure it
        was handling is the one reported."""
        seen: BaseException | None = exc
        for _ in range(8):
            if seen is None:
                return None
            error = self._translate(seen, action)
            if error is not None:
                return error
            seen = seen.__context__
        return None

    def _translate(self, exc: BaseException, action: str) -> RagError | None:
        import chromadb.errors
        import httpx

        text = _first_line(exc)
        lowered = text.lower()
        if isinstance(exc, httpx.TimeoutException):
            within = f"within {self.timeout_s:g} s (RAG_TIMEOUT)" if self.timeout_s else "in time"
            return IndexBuildError(
                f"the Chroma server at {self.url} did not answer {within} when asked to {action}"
            )
        if isinstance(exc, httpx.HTTPError):
            return IndexBuildError(
                f"cannot reach the Chroma server at {self.url} to {action}: {text}; "
                "is `chroma run` still running?"
            )
        full = (isinstance(exc, OSError) and exc.errno in _FULL) or any(
            word in lowered for word in _FULL_WORDS
        )
        if full:
            return IndexBuildError(
                f"no space left to {action} in {self.index_dir} ({text}); free some space "
                "and run `rag index` again; the last complete index is unchanged"
            )
        if "disk i/o error" in lowered:  # what sqlite says when a write is refused
            return IndexBuildError(
                f"the disk refused to {action} in {self.index_dir} ({text}; is it full?); "
                "free some space and run `rag index` again; the last complete index is "
                "unchanged"
            )
        read_only = (isinstance(exc, OSError) and exc.errno == errno.EROFS) or any(
            word in lowered for word in _READ_ONLY_WORDS
        )
        if read_only and not self.url:
            return IndexBuildError(
                f"the index in {self.index_dir} is read-only ({text}): Chroma writes to its "
                "files even to read them (chromadb 1.5), so make the folder writable, or "
                "copy it to one that is and point RAG_INDEX_DIR there"
            )
        if isinstance(exc, OSError):
            return IndexBuildError(f"cannot {action} in {self.index_dir}: {text}")
        if not isinstance(exc, chromadb.errors.ChromaError | sqlite3.Error):
            return None
        if self.url:
            return IndexBuildError(f"the Chroma server at {self.url} failed to {action}: {text}")
        if any(word in lowered for word in _DAMAGED_WORDS):
            return IndexDamagedError(
                f"the index in {self.index_dir} is damaged ({text}); {REBUILD_HINT}"
            )
        return IndexBuildError(
            f"Chroma could not {action} in {self.index_dir}: {text}; if it happens again, "
            f"{REBUILD_HINT}"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
