"""Whether anything under a corpus folder changed since a moment, without a stat per file.

Every question first checks that the index is still the corpus's: a ``stat`` of every
file, which at 50,000 files took seconds. A process that asks more than once (``rag
chat``, an application calling ``rag.ask``) instead asks the kernel (Linux inotify) to
report any change under the corpus's folders, and scans again only when one was
reported. Where inotify cannot be had (another system, the watch limit reached) the
watch is never quiet, so every question scans as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import sys
from pathlib import Path

__all__ = ["ChangeWatch"]

# <sys/inotify.h>
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF = 0x400, 0x800
_IN_ONLYDIR, _IN_NONBLOCK, _IN_CLOEXEC = 0x01000000, 0o4000, 0o2000000
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO
         | _IN_CREATE | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_ONLYDIR)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    except (OSError, AttributeError):
        return None
    return libc


class ChangeWatch:
    """``arm()`` starts watching every folder under ``root`` (hidden ones aside, as the
    corpus reader skips them); ``quiet()`` is True while nothing under them has changed
    since. Not thread-safe: its owner serialises calls."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._fd: int | None = None
        self._libc = _libc()

    def arm(self) -> None:
        self.close()
        if self._libc is None:
            return
        fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return
        top = str(self.root)
        for dirpath, dirnames, _ in os.walk(top):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            if self._libc.inotify_add_watch(fd, os.fsencode(dirpath), _MASK) < 0:
                os.close(fd)  # out of watches (fs.inotify.max_user_watches): scan instead
                return
        self._fd = fd

    def quiet(self) -> bool:
        """Whether armed and no change has been reported since (reading the reports)."""
        if self._fd is None:
            return False
        changed = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                self.close()
                return False
            if not data:
                break
            changed = True
        if changed:
            self.close()  # armed again by the scan that follows
        return not changed

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()
