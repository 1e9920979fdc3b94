"""The index's public names, where the rest of rag imports them from. The code is in
``rag.index``, one module a responsibility (its docstring describes the index folder and
how builds commit); tunables such as ``EMBED_WINDOW`` are not re-exported here, since
changing a re-export would change nothing: set them on the module that reads them."""

from __future__ import annotations

from rag.index.build import Progress
from rag.index.lock import LOCK_STALL_S, IndexBusyError
from rag.index.manifest import CUTTING, LEVELS, MANIFEST_VERSION, FileEntry, Manifest
from rag.index.records import EXACT_RECORDS, Records
from rag.index.store import IndexStore

__all__ = [
    "CUTTING",
    "EXACT_RECORDS",
    "LEVELS",
    "LOCK_STALL_S",
    "MANIFEST_VERSION",
    "FileEntry",
    "IndexBusyError",
    "IndexStore",
    "Manifest",
    "Progress",
    "Records",
]
