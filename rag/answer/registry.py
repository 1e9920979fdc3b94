"""Answer backends by name: a new backend is one ``register`` call.

The settings validate ``backend`` against these names, the engine makes backends with
``make_backend``, the CLI offers them, and ``rag eval`` replays every LLM backend from its
recordings. Factories import what they need when called, so listing the names is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.answer.base import AnswerBackend
from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["BackendSpec", "backend_names", "make_backend", "register"]


@dataclass(frozen=True)
class BackendSpec:
    name: str
    make: Callable[[Settings, Path], AnswerBackend]  # (settings, corpus root) -> backend
    help: str = ""


_BACKENDS: dict[str, BackendSpec] = {}


def register(spec: BackendSpec) -> None:
    """Make ``spec.name`` a backend that ``ask(..., backend=...)`` and the CLI accept."""
    _BACKENDS[spec.name] = spec


def backend_names() -> tuple[str, ...]:
    return tuple(_BACKENDS)


def make_backend(settings: Settings, corpus_root: Path) -> AnswerBackend:
    spec = _BACKENDS.get(settings.backend)
    if spec is None:
        raise ConfigError(
            f"unknown backend {settings.backend!r}; choose one of: {', '.join(_BACKENDS)}"
        )
    return spec.make(settings, corpus_root)


def _extractive(settings: Settings, corpus_root: Path) -> AnswerBackend:
    from rag.answer.extractive import ExtractiveBackend

    return ExtractiveBackend()


def _openai(settings: Settings, corpus_root: Path) -> AnswerBackend:
    from rag.answer.extractive import ExtractiveBackend
    from rag.answer.llm import LLMBackend
    from rag.answer.openai import OpenAIChat

    return LLMBackend(OpenAIChat(settings), corpus_root, fallback=ExtractiveBackend())


def _local(settings: Settings, corpus_root: Path) -> AnswerBackend:
    from rag.answer.extractive import ExtractiveBackend
    from rag.answer.llm import LLMBackend
    from rag.answer.openai import OpenAIChat
    from rag.local.server import served_settings

    return LLMBackend(OpenAIChat(served_settings(settings)), corpus_root, name="local",
                      fallback=ExtractiveBackend())


register(BackendSpec("extractive", _extractive, "quotes the sentences that answer (offline)"))
register(BackendSpec("openai", _openai, "any OpenAI-compatible endpoint, verified"))
register(BackendSpec("local", _local, "the local model (rag local fetch), verified"))
