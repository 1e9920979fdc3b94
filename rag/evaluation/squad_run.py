"""The SQuAD 2.0 benchmark: retrieval, citation and refusal on questions nobody here
wrote. Shared by ``benchmarks/squad.py`` (the full set) and the CI sample test."""

from __future__ import annotations

from pathlib import Path

from rag.api import engine_for
from rag.evaluation.backends import extractive_answerer
from rag.evaluation.runner import Run, run_backend
from rag.evaluation.squad import load_squad, write_squad_corpus
from rag.settings import Settings

__all__ = ["run_squad"]


def run_squad(
    squad_json: Path,
    workdir: Path,
    articles: int | None = None,
    questions_per_article: int | None = None,
    top_k: int = 8,
) -> Run:
    """The extractive backend over the first ``articles`` articles (all by default),
    indexed together, with up to ``questions_per_article`` questions of each, taken
    evenly through the article so answerable and impossible ones both appear."""
    data = load_squad(squad_json)[: articles or None]
    by_file = write_squad_corpus(data, workdir / "corpus")
    items = []
    for file_items in by_file.values():
        if questions_per_article and len(file_items) > questions_per_article:
            step = len(file_items) / questions_per_article
            file_items = [file_items[int(i * step)] for i in range(questions_per_article)]
        items.extend(file_items)
    engine = engine_for(Settings.from_env(corpus=workdir / "corpus", index_dir=workdir / "index"))
    engine.build()
    return run_backend("extractive", engine, items, extractive_answerer(engine, top_k), top_k)
