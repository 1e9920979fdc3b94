"""The committed copy (``records-<key>.npz``, embedded index only): the live records'
text, lines and vectors as the last build committed them, so that a question over a
fresh index reads them without opening Chroma."""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.embeddings import EMBEDDING_DIM, MODEL_ID
from rag.index.manifest import CUTTING, LEVELS, Level, Manifest
from rag.index.records import EXACT_RECORDS, FIELDS, Records

__all__ = ["COPY_VERSION", "COPY_WINDOW", "CommittedCopy"]

COPY_WINDOW = 1000  # records read back from Chroma at a time for the committed copy
COPY_VERSION = 1  # the layout of the committed copy (``IndexStore.copy_path``)

ReadChroma = Callable[[Level, list[str], bool], Records]
"""``read(level, ids, vectors)``: the records ``ids`` of ``level`` as Chroma holds them."""


class CommittedCopy:
    """The committed copy of one corpus's records, in one file."""

    def __init__(self, path: Path, chunk_tokens: int) -> None:
        self.path = path
        self.chunk_tokens = chunk_tokens
        self._cache: tuple[tuple[int, int, int], dict[Level, Records]] | None = None

    def forget(self) -> None:
        """Drop what was read (the file is gone or replaced)."""
        self._cache = None

    def read(self) -> dict[Level, Records] | None:
        """The committed copy's records of each level (with vectors where it has them),
        read again only when its file changed; None when there is none, or it is from
        another setup, or it cannot be read (each zip member's CRC is checked as it is
        read, so a damaged copy is not used)."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self._cache is not None and self._cache[0] == stamp:
            return self._cache[1]
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                header = json.loads(stored["header"].tobytes())
                setup = (header["version"], header["cutting"], header["model"],
                         header["chunk_tokens"])
                if setup != (COPY_VERSION, CUTTING, MODEL_ID, self.chunk_tokens):
                    return None
                copy = {
                    level: Records(**{name: header["levels"][level][name] for name in FIELDS},
                                   vectors=(stored[f"vectors-{level}"]
                                            if f"vectors-{level}" in stored.files else None))
                    for level in LEVELS
                }
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
            return None
        self._cache = (stamp, copy)
        return copy

    def copied(self, level: Level, ids: list[str], vectors: bool) -> Records | None:
        """The copy's records of ``level`` (with vectors if asked) when it holds exactly
        ``ids``; else None."""
        copy = self.read()
        if copy is None or copy[level].ids != ids:
            return None
        if not vectors:
            return dataclasses.replace(copy[level], vectors=None)
        return copy[level] if copy[level].vectors is not None else None

    def save(self, manifest: Manifest, from_chroma: ReadChroma) -> None:
        """Write the committed copy of ``manifest``'s records, with the vectors of every
        level searched exactly. Only a build writes it, under the build lock, after the
        manifest is committed, and only for an embedded index (a server's records are
        the server's). Records the old copy holds are taken from it (an id names one
        piece of one version of a file, cut and embedded by the code the copy records);
        the rest are read back from Chroma, a window at a time, each let go once merged
        (a read of every record at once added 120 MiB to a 10k-line build's peak, and
        holding every window until the merge 45 MiB to a 100k-line one's; the header's
        JSON is encoded piece by piece for the same reason). Nothing is written when the
        copy already holds exactly these records; a copy that cannot be written is left
        out, and questions read Chroma instead."""
        old = self.read()
        copy: dict[Level, Records] = {}
        for level in LEVELS:
            ids = manifest.level_ids(level)
            with_vectors = len(ids) <= EXACT_RECORDS
            kept = old[level] if old is not None else None
            if kept is not None and with_vectors and kept.vectors is None:
                kept = None
            if kept is not None and kept.ids == ids:
                copy[level] = kept if with_vectors else dataclasses.replace(kept, vectors=None)
                continue
            known = {rid: n for n, rid in enumerate(kept.ids)} if kept is not None else {}
            rest = [i for i in ids if i not in known]
            fresh = (from_chroma(level, rest[begin : begin + COPY_WINDOW], with_vectors)
                     for begin in range(0, len(rest), COPY_WINDOW))
            copy[level] = _merged(ids, known, kept, fresh, with_vectors)
        if old is not None and all(
            copy[level].fields() == old[level].fields()
            and (copy[level].vectors is None) == (old[level].vectors is None)
            for level in LEVELS
        ):
            return
        header = {"version": COPY_VERSION, "cutting": CUTTING, "model": MODEL_ID,
                  "chunk_tokens": self.chunk_tokens,
                  "levels": {level: records.fields() for level, records in copy.items()}}
        vectors: dict[str, Any] = {f"vectors-{level}": records.vectors
                                   for level, records in copy.items()
                                   if records.vectors is not None}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as handle:
                np.savez(handle, header=np.frombuffer(_json_bytes(header), np.uint8),
                         **vectors)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)


def _merged(ids: list[str], known: dict[str, int], kept: Records | None,
            fresh: Iterator[Records], with_vectors: bool) -> Records:
    """The records ``ids`` in that order: row ``known[i]`` of ``kept`` where known, the
    rest from ``fresh``, windows that hold them in the same order, each read only when
    the last is used up (all of them with vectors if asked)."""
    fields: dict[str, list[Any]] = {name: [] for name in FIELDS}
    rows = np.empty((len(ids), EMBEDDING_DIM), dtype=np.float32) if with_vectors else None
    window: Records | None = None
    taken = 0
    for n, rid in enumerate(ids):
        if kept is not None and rid in known:
            source, row = kept, known[rid]
        else:
            if window is None or taken == len(window.ids):
                window, taken = next(fresh), 0
            source, row = window, taken
            taken += 1
        for name in FIELDS:
            fields[name].append(getattr(source, name)[row])
        if rows is not None and source.vectors is not None:
            rows[n] = source.vectors[row]
    return Records(**fields, vectors=rows)


def _json_bytes(value: Any, encoded: bytearray | None = None) -> bytearray:
    """``json.dumps(value).encode()``, without ever holding the whole text (30 MiB for a
    100k-line copy's header) beside its bytes: objects are written key by key and lists
    ``COPY_WINDOW`` items at a time."""
    encoded = bytearray() if encoded is None else encoded
    if isinstance(value, dict):
        encoded += b"{"
        for n, (key, item) in enumerate(value.items()):
            encoded += (b", " if n else b"") + json.dumps(key).encode() + b": "
            _json_bytes(item, encoded)
        encoded += b"}"
    elif isinstance(value, list):
        encoded += b"["
        for begin in range(0, len(value), COPY_WINDOW):
            part = json.dumps(value[begin : begin + COPY_WINDOW])
            encoded += (b", " if begin else b"") + part[1:-1].encode()
        encoded += b"]"
    else:
        encoded += json.dumps(value).encode()
    return encoded
