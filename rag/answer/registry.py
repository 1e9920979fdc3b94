"""Answer backends by name: a new backend is one ``register`` call, or, from another
package, one entry point.

A ``BackendSpec`` carries a backend's name, how it is made, a help line and its options
(a ``rag.options.Options`` dataclass: each backend declares its own, and ``Settings``
keeps only what every backend shares). The engine checks the settings' ``backend`` and
that backend's options against these, and makes backends with ``make_backend``; the CLI
offers them and lists each one's options (``described_backends``); ``rag eval`` runs any
of them by name. Factories import what they need when called, so listing the names is
cheap.

A package adds a backend without touching rag by declaring an entry point in the group
``rag.backends`` whose object is a ``BackendSpec`` (or a function returning one)::

    [project.entry-points."rag.backends"]
    ollama = "rag_ollama:SPEC"

    # rag_ollama.py
    SPEC = BackendSpec("ollama", make, "Ollama's own API", OllamaOptions)

where ``make(settings, corpus_root)`` reads ``OllamaOptions.of(settings)``.

Entry points are read once, the first time the names are asked for; one that fails to
load is reported by a warning naming it and left out, never stopping rag. A name rag
already has is not replaced.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from rag.answer.base import AnswerBackend
from rag.answer.llm_options import OpenAIOptions
from rag.errors import ConfigError
from rag.local.options import LocalOptions
from rag.options import Options

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["ENTRY_POINT_GROUP", "BackendSpec", "backend_names", "backend_options",
           "backend_spec", "check_backend", "described_backends", "make_backend", "register"]

ENTRY_POINT_GROUP = "rag.backends"


@dataclass(frozen=True)
class BackendSpec:
    name: str
    make: Callable[[Settings, Path], AnswerBackend]  # (settings, corpus root) -> backend
    help: str = ""
    options: type[Options] = Options  # what it reads with ``options.of(settings)``; none


_BACKENDS: dict[str, BackendSpec] = {}
_plugins_loaded = False


def register(spec: BackendSpec) -> None:
    """Make ``spec.name`` a backend that ``ask(..., backend=...)`` and the CLI accept."""
    _BACKENDS[spec.name] = spec


def backend_names() -> tuple[str, ...]:
    _load_plugins()
    return tuple(_BACKENDS)


def _load_plugins() -> None:
    """Register the backends other packages declare (``ENTRY_POINT_GROUP``), once."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in _BACKENDS:
            continue  # rag's own names stay rag's
        try:
            found = point.load()
            spec = found if isinstance(found, BackendSpec) else found()
            if not isinstance(spec, BackendSpec) or spec.name != point.name:
                raise TypeError(f"{point.value} is not a BackendSpec named {point.name!r}")
            if not (isinstance(spec.options, type) and issubclass(spec.options, Options)):
                raise TypeError(f"its options {spec.options!r} are not an Options class")
            spec.options.described()  # a field not made with option() fails here, not later
        except Exception as exc:
            warnings.warn(f"backend {point.name!r} ({point.value}) not loaded: {exc}",
                          RuntimeWarning, stacklevel=2)
            continue
        register(spec)


def check_backend(name: str) -> None:
    """``ConfigError`` unless ``name`` is a registered backend (the engine checks the
    settings' backend when it is made, before any index work)."""
    if name not in backend_names():
        raise ConfigError(
            f"unknown backend {name!r}; choose one of: {', '.join(backend_names())}")


def backend_spec(name: str) -> BackendSpec:
    """The registered backend ``name``; ``ConfigError`` naming the known ones if none."""
    check_backend(name)
    return _BACKENDS[name]


def backend_options(settings: Settings) -> Options:
    """The chosen backend's options as ``settings`` give them; ``ConfigError`` for an
    unknown backend, an option no registered backend declares (a typo) or a bad value
    (the engine reads them when made, before any index work, so a bad ``RAG_LLM_EXTRA``
    is said at once)."""
    spec = backend_spec(settings.backend)
    declared = {f.name for name in backend_names() for f in fields(_BACKENDS[name].options)}
    unknown = sorted(set(settings.options) - declared)
    if unknown:
        raise ConfigError(
            f"no backend takes the option {', '.join(map(repr, unknown))}"
            f" (options: {', '.join(sorted(declared)) or 'none'}; see rag ask --help)")
    return spec.options.of(settings)


def make_backend(settings: Settings, corpus_root: Path) -> AnswerBackend:
    backend_options(settings)
    return _BACKENDS[settings.backend].make(settings, corpus_root)


def described_backends() -> str:
    """Every registered backend with its help and options, for ``--help``."""
    lines = ["backends and their options (an argument, else the variable, else the default):"]
    for name in backend_names():
        spec = _BACKENDS[name]
        lines.append(f"  {name}: {spec.help}" if spec.help else f"  {name}")
        lines.extend(textwrap.fill(line, 88, initial_indent=" " * 6, subsequent_indent=" " * 8)
                     for line in spec.options.described())
    return "\n".join(lines)


def _extractive(settings: Settings, corpus_root: Path) -> AnswerBackend:
    from rag.answer.extractive import ExtractiveBackend

    return ExtractiveBackend()


def _openai(settings: Settings, corpus_root: Path) -> AnswerBackend:
    from rag.answer.extractive import ExtractiveBackend
    from rag.answer.llm import LLMBackend
    from rag.answer.llm.openai import OpenAIChat

    return LLMBackend(OpenAIChat(settings), corpus_root, fallback=ExtractiveBackend())


def _local(settings: Settings, corpus_root: Path) -> AnswerBackend:
    from rag.answer.extractive import ExtractiveBackend
    from rag.answer.llm import LLMBackend
    from rag.answer.llm.openai import OpenAIChat
    from rag.local.server import served_settings

    return LLMBackend(OpenAIChat(served_settings(settings)), corpus_root, name="local",
                      fallback=ExtractiveBackend())


register(BackendSpec("extractive", _extractive, "quotes the sentences that answer (offline)"))
register(BackendSpec("openai", _openai, "any OpenAI-compatible endpoint, verified",
                     OpenAIOptions))
register(BackendSpec("local", _local, "the local model (rag local fetch), verified",
                     LocalOptions))
