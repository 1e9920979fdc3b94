"""One frozen settings object; the only place rag reads ``RAG_*`` and ``OPENAI_*`` variables.

Explicit arguments win over the environment, the environment over the defaults below.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag.errors import ConfigError

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_CORPUS",
    "DEFAULT_INDEX_DIR",
    "DEFAULT_MODEL",
    "DEFAULT_TOP_K",
    "Settings",
    "cache_dir",
]

DEFAULT_CORPUS = Path("seeds")
DEFAULT_INDEX_DIR = Path(".rag")
DEFAULT_TOP_K = 8
DEFAULT_BACKEND = "extractive"
DEFAULT_MODEL = "gpt-4.1-mini"
RESERVED_LLM_FIELDS = frozenset({
    "messages", "model", "stream", "stream_options", "response_format", "n", "tools",
    "tool_choice", "functions", "function_call",
})
"""Request fields rag sets itself: RAG_LLM_EXTRA replacing one would silently change the
question asked, the model, or the shape of the reply the checks read."""
MAX_TIMEOUT_S = 86_400
"""Longer waits overflow the socket layer's timers; no request should take a day."""


@dataclass(frozen=True)
class Settings:
    """Everything rag can be configured with. Build it with ``Settings.from_env()``."""

    corpus: Path = DEFAULT_CORPUS
    index_dir: Path = DEFAULT_INDEX_DIR
    top_k: int = DEFAULT_TOP_K
    backend: str = DEFAULT_BACKEND
    chroma_url: str | None = None
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0
    max_retries: int = 3
    # Extra request fields for OpenAI-compatible servers that take more sampling
    # parameters than OpenAI (llama.cpp: {"repeat_penalty": 1.0}); JSON in RAG_LLM_EXTRA.
    llm_extra: dict[str, Any] = field(default_factory=dict)
    # Ask LLM endpoints for structured answers (a JSON schema); RAG_STRUCTURED=0 turns it
    # off for endpoints that ignore the schema instead of rejecting it.
    structured: bool = True
    # Where the local backend's model is kept (RAG_MODEL_DIR; default ~/.cache/rag).
    model_dir: Path = field(default_factory=lambda: cache_dir(os.environ))

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
            _check_url("RAG_CHROMA_URL", self.chroma_url)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Settings from ``environ`` (default ``os.environ``); non-None overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if corpus := env.get("RAG_CORPUS"):
            values["corpus"] = Path(corpus)
        if index_dir := env.get("RAG_INDEX_DIR"):
            values["index_dir"] = Path(index_dir)
        if top_k := env.get("RAG_TOP_K"):
            values["top_k"] = _parse_int("RAG_TOP_K", top_k)
        if backend := env.get("RAG_BACKEND"):
            values["backend"] = backend
        if chroma_url := env.get("RAG_CHROMA_URL"):
            values["chroma_url"] = chroma_url
        if model := env.get("RAG_MODEL"):
            values["model"] = model
        if base_url := env.get("OPENAI_BASE_URL"):
            values["base_url"] = base_url
        if api_key := env.get("OPENAI_API_KEY"):
            values["api_key"] = api_key
        if timeout := env.get("RAG_TIMEOUT"):
            values["timeout_s"] = _parse_float("RAG_TIMEOUT", timeout)
        if extra := env.get("RAG_LLM_EXTRA"):
            values["llm_extra"] = _parse_json_object("RAG_LLM_EXTRA", extra)
            if taken := sorted(RESERVED_LLM_FIELDS & values["llm_extra"].keys()):
                raise ConfigError(f"RAG_LLM_EXTRA cannot set {', '.join(taken)}: rag sends "
                                  "those itself (extra fields are for sampling knobs)")
        values["model_dir"] = cache_dir(env)
        if structured := env.get("RAG_STRUCTURED"):
            values["structured"] = _parse_bool("RAG_STRUCTURED", structured)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("corpus", "index_dir", "model_dir"):
            if name in values:
                values[name] = _as_path(name, values[name])
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """A copy with the non-None ``changes`` applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _as_path(name: str, value: Any) -> Path:
    if not isinstance(value, str | os.PathLike):
        raise ConfigError(f"{name} must be a folder's path, got {value!r}")
    return Path(value)


def _check_url(name: str, url: str) -> None:
    """A ``ConfigError`` unless ``url`` is an http(s) URL with a host and a usable port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Port out of range 0-65535", a bad IPv6 literal
        raise ConfigError(f"{name} is not a usable URL ({exc}): {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host, got {url!r}")
    if port == 0:
        raise ConfigError(f"{name} must name a port from 1 to 65535, got {url!r}")


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def cache_dir(env: Mapping[str, str]) -> Path:
    """rag's folder for what it fetches or learns once per machine (RAG_MODEL_DIR, else
    ~/.cache/rag)."""
    if folder := env.get("RAG_MODEL_DIR"):
        return Path(folder)
    cache = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(cache) / "rag"


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def _parse_json_object(name: str, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a JSON object, got {raw!r}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object, got {raw!r}")
    return value


def _parse_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    return value
