"""The build lock of an index folder, so two builds never interleave: its holder says who
it is and keeps its file touched; a waiter gives up on a holder that has stalled."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from rag.errors import IndexBuildError

__all__ = ["LOCK_BEAT_S", "LOCK_POLL_S", "LOCK_STALL_S", "IndexBusyError", "locked"]


class IndexBusyError(IndexBuildError):
    """Another process holds the build lock (raised only when asked not to wait)."""


@contextlib.contextmanager
def locked(index_dir: Path, wait: bool) -> Iterator[None]:
    """The build lock. Its holder says who it is in the lock file and touches it every
    ``LOCK_BEAT_S`` while it holds it; a waiter gives up, saying who holds it and since
    when, once the file has not been touched for ``LOCK_STALL_S`` (a holder frozen by
    SIGSTOP, or stuck in the kernel, would otherwise keep every build and every first
    question waiting for ever). A holder that dies lets go of the lock by itself."""
    path = index_dir / "lock"
    began = time.monotonic()
    with open(path, "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    raise IndexBusyError(
                        f"another rag process is updating the index in {index_dir}"
                    ) from None
                if time.monotonic() - began >= LOCK_STALL_S:  # a holder has had time
                    _raise_if_stalled(path)                   # to write its name
                time.sleep(LOCK_POLL_S)
        stop = threading.Event()
        beat = threading.Thread(target=_beat, args=(handle, path, stop), daemon=True)
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()
            fcntl.flock(handle, fcntl.LOCK_UN)


LOCK_BEAT_S = 2.0
LOCK_STALL_S = 30.0
LOCK_POLL_S = 0.25


def _beat(handle: BinaryIO, path: Path, stop: threading.Event) -> None:
    """Say who holds the lock, then touch its file until ``stop``."""
    holder = json.dumps({"pid": os.getpid(), "since": time.time()}).encode()
    with contextlib.suppress(OSError):
        handle.seek(0)
        handle.truncate()
        handle.write(holder)
        handle.flush()
    while not stop.wait(LOCK_BEAT_S):
        with contextlib.suppress(OSError):
            os.utime(path)


def _raise_if_stalled(path: Path) -> None:
    try:
        quiet = time.time() - path.stat().st_mtime
        holder = json.loads(path.read_bytes() or b"{}")
    except (OSError, ValueError):
        return
    if quiet < LOCK_STALL_S or not isinstance(holder, dict):
        return
    since = holder.get("since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if isinstance(
        since, int | float) else "an unknown time"
    raise IndexBusyError(
        f"the index in {path.parent} is locked by process {holder.get('pid', '?')} since "
        f"{when}, which has made no progress for {quiet:.0f} s; if it is stuck, stop it "
        "and run the command again")
