"""Token counting with tiktoken, offline.

tiktoken downloads its encodings unless ``TIKTOKEN_CACHE_DIR`` points at a cache.
llama-index-core ships one (cl100k_base and o200k_base); it is found through the
installed distribution's file list, so llama-index itself is never imported here.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Protocol

from rag.errors import ConfigError

__all__ = ["ENCODING", "TokenCounter", "count_tokens", "tiktoken_cache_dir"]

ENCODING = "cl100k_base"
_CACHE_IN_LLAMA_INDEX = "llama_index/core/_static/tiktoken_cache"


class TokenCounter(Protocol):
    def __call__(self, text: str) -> int: ...


def tiktoken_cache_dir() -> Path | None:
    """The offline tiktoken cache: ``TIKTOKEN_CACHE_DIR`` if set, else llama-index-core's."""
    if configured := os.environ.get("TIKTOKEN_CACHE_DIR"):
        return Path(configured)
    try:
        dist = metadata.distribution("llama-index-core")
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(_CACHE_IN_LLAMA_INDEX)))
    return path if path.is_dir() else None


@cache
def _encoding() -> object:
    cache_dir = tiktoken_cache_dir()
    if cache_dir is None:
        raise ConfigError(
            "no offline tiktoken cache: install llama-index-core or set TIKTOKEN_CACHE_DIR"
        )
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache_dir))
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text``."""
    encoding = _encoding()
    return len(encoding.encode(text, disallowed_special=()))  # type: ignore[attr-defined]
