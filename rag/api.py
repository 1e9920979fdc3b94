"""The public functions: ``ask`` and ``build_index``.

Engines are cached per (corpus, index folder, Chroma server) so a second ``ask`` in the
same process reuses the loaded model and index.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rag.corpus import corpus_root
from rag.engine import Engine
from rag.settings import Settings
from rag.store import Progress
from rag.types import Answer, IndexStats, Passage

__all__ = ["ask", "build_index", "engine_for", "retrieve"]

_engines: dict[tuple[Path, Path, str | None], Engine] = {}
_engines_lock = threading.Lock()


def engine_for(settings: Settings) -> Engine:
    """The cached engine for these settings' corpus and index."""
    key = (
        corpus_root(settings.corpus),
        settings.index_dir.resolve(),
        settings.chroma_url,
    )
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _new_engine(settings)
        return engine


def _new_engine(settings: Settings) -> Engine:
    return Engine(settings)


def ask(
    question: str,
    *,
    corpus: str | Path | None = None,
    top_k: int | None = None,
    backend: str | None = None,
    **options: Any,
) -> Answer:
    """Answer ``question`` from the files under ``corpus`` (default ``seeds/``), citing lines.

    ``options`` are the backend's own (``model="gpt-4o"`` for openai; ``rag ask --help``
    lists each backend's), over its environment variables. Builds or refreshes the index
    first when the corpus changed. Returns a refused Answer, never a guess, when the
    documents do not hold the answer.
    """
    settings = Settings.from_env(corpus=corpus, top_k=top_k, backend=backend, options=options)
    return engine_for(settings).ask(question, top_k=settings.top_k, backend=settings.backend,
                                    **settings.options)


def build_index(
    corpus: str | Path | None = None, *, progress: Progress | None = None,
    rebuild: bool = False,
) -> IndexStats:
    """Index (or incrementally re-index) ``corpus``; only changed files are re-embedded.
    ``rebuild=True`` builds from nothing, moving a damaged index aside first."""
    settings = Settings.from_env(corpus=corpus)
    return engine_for(settings).build(progress, rebuild=rebuild)


def retrieve(
    question: str, *, corpus: str | Path | None = None, top_k: int | None = None
) -> list[Passage]:
    """The ``top_k`` passages hybrid retrieval finds for ``question``."""
    settings = Settings.from_env(corpus=corpus, top_k=top_k)
    return engine_for(settings).retrieve(question, settings.top_k)
