"""The live records of one level as readers get them, from the committed copy or from
Chroma, and which levels are searched exactly over their stored vectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rag.formats import searchable

__all__ = ["EXACT_RECORDS", "FIELDS", "Records"]

EXACT_RECORDS = 50_000
"""A level of at most this many records is searched exactly, over its stored vectors held
in memory (75 MB of float32 at the limit): the same ranking from every build of the same
files. Chroma's HNSW graph differs from build to build, and on the httpx docs (2,028
sentence records) its top 60 missed a few of the exact top 60 in most questions, a
different few each build, so answers changed with the build. The committed copy holds
the vectors of such levels only (``rag.retrieval`` searches larger ones through Chroma)."""


@dataclass(frozen=True)
class Records:
    """The live records of one level, in manifest order."""

    ids: list[str]
    texts: list[str]
    sources: list[str]
    start_lines: list[int]
    end_lines: list[int]
    contexts: list[str]  # a Markdown record's heading path ("" for others)
    vectors: npt.NDArray[np.float32] | None = None  # stored vectors, row i = ids[i]

    def searchable(self, i: int) -> str:
        """What retrieval reads for record ``i`` (``rag.formats.searchable``)."""
        return searchable(self.sources[i], self.texts[i], self.contexts[i])

    def fields(self) -> dict[str, list[Any]]:
        """Everything but the vectors, as the committed copy's header holds it."""
        return {name: getattr(self, name) for name in FIELDS}


FIELDS = ("ids", "texts", "sources", "start_lines", "end_lines", "contexts")
