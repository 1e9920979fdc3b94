"""One frozen settings object: what every backend shares, and the only place rag reads
the environment (``RAG_*``, and a backend's own variables such as ``OPENAI_*``).

Explicit arguments win over the environment, the environment over the defaults below.
A backend's own options (the openai backend's model and endpoint, say) are declared by
the backend (``rag.options``): ``Settings`` carries the ones given as arguments
(``options``) and the environment they are otherwise read from (``environ``), and the
chosen backend reads its own from them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rag.errors import ConfigError
from rag.options import check_url, parse_float, parse_int

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_CORPUS",
    "DEFAULT_INDEX_DIR",
    "DEFAULT_TOP_K",
    "Settings",
    "cache_dir",
]

DEFAULT_CORPUS = Path("seeds")
DEFAULT_INDEX_DIR = Path(".rag")
DEFAULT_TOP_K = 8
DEFAULT_BACKEND = "extractive"
MAX_TIMEOUT_S = 86_400
"""Longer waits overflow the socket layer's timers; no request should take a day."""


@dataclass(frozen=True)
class Settings:
    """What rag is configured with, whichever backend answers. Build it with
    ``Settings.from_env()``.

    ``timeout_s`` is here, not a backend's option, because the Chroma server is waited
    for with it too, whatever the backend."""

    corpus: Path = DEFAULT_CORPUS
    index_dir: Path = DEFAULT_INDEX_DIR
    top_k: int = DEFAULT_TOP_K
    backend: str = DEFAULT_BACKEND
    chroma_url: str | None = None
    timeout_s: float = 30.0
    # Backend options given as arguments, by name (``ask(..., model=...)``, ``--model``,
    # ``-o NAME VALUE``); the chosen backend reads those it declares (``Options.of``).
    options: Mapping[str, Any] = field(default_factory=dict)
    # Where a backend's options not given as arguments are read from: the environment
    # for ``from_env``, nothing (so their defaults) otherwise.
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.top_k, int) or isinstance(self.top_k, bool):
            raise ConfigError(f"top_k must be an integer, got {self.top_k!r}")
        if not isinstance(self.backend, str):
            raise ConfigError(f"backend must be a name, got {self.backend!r}")
        if (not isinstance(self.timeout_s, int | float) or isinstance(self.timeout_s, bool)
                or not math.isfinite(self.timeout_s)):
            raise ConfigError(f"timeout must be a finite number of seconds, got "
                              f"{self.timeout_s!r}")
        if self.top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {self.top_k}")
        if self.timeout_s <= 0:
            raise ConfigError(f"timeout must be positive, got {self.timeout_s}")
        if self.timeout_s > MAX_TIMEOUT_S:
            raise ConfigError(f"timeout must be at most {MAX_TIMEOUT_S} seconds (a day), got "
                              f"{self.timeout_s:g}")
        if self.index_dir.exists() and not self.index_dir.is_dir():
            raise ConfigError(f"index folder {self.index_dir} is a file, not a folder "
                              "(RAG_INDEX_DIR)")
        if self.chroma_url is not None:
            check_url("RAG_CHROMA_URL", self.chroma_url)
        if not isinstance(self.options, Mapping):
            raise ConfigError(f"options must be a mapping of names, got {self.options!r}")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *,
        options: Mapping[str, Any] | None = None, **overrides: Any,
    ) -> Settings:
        """Settings from ``environ`` (default ``os.environ``); non-None overrides and
        ``options`` win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if corpus := env.get("RAG_CORPUS"):
            values["corpus"] = Path(corpus)
        if index_dir := env.get("RAG_INDEX_DIR"):
            values["index_dir"] = Path(index_dir)
        if top_k := env.get("RAG_TOP_K"):
            values["top_k"] = parse_int("RAG_TOP_K", top_k)
        if backend := env.get("RAG_BACKEND"):
            values["backend"] = backend
        if chroma_url := env.get("RAG_CHROMA_URL"):
            values["chroma_url"] = chroma_url
        if timeout := env.get("RAG_TIMEOUT"):
            values["timeout_s"] = parse_float("RAG_TIMEOUT", timeout)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("corpus", "index_dir"):
            if name in values:
                values[name] = _as_path(name, values[name])
        settings = cls(**values, environ=MappingProxyType(dict(env)))
        return settings.with_options(**(options or {}))

    def with_(self, **changes: Any) -> Settings:
        """A copy with the non-None ``changes`` applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def with_options(self, **options: Any) -> Settings:
        """A copy with the non-None backend ``options`` given as arguments too."""
        given = {k: v for k, v in options.items() if v is not None}
        return replace(self, options={**self.options, **given}) if given else self


def _as_path(name: str, value: Any) -> Path:
    if not isinstance(value, str | os.PathLike):
        raise ConfigError(f"{name} must be a folder's path, got {value!r}")
    return Path(value)


def cache_dir(env: Mapping[str, str]) -> Path:
    """rag's folder for what it fetches or learns once per machine (RAG_MODEL_DIR, else
    ~/.cache/rag)."""
    if folder := env.get("RAG_MODEL_DIR"):
        return Path(folder)
    cache = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(cache) / "rag"
