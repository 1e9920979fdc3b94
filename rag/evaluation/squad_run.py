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
    articles: range | None = None,
    questions_per_article: int | None = None,
    top_k: int = 8,
    asked: range | None = None,
) -> Run:
    """The extractive backend over the ``articles`` (all by default), indexed together,
    with up to ``questions_per_article`` questions of each article in ``asked`` (all
    indexed ones by default), taken evenly through the article so answerable and
    impossible ones both appear."""
    data = load_squad(squad_json)
    chosen = articles if articles is not None else range(len(data))
    by_file = write_squad_corpus(data[chosen.start : chosen.stop], workdir / "corpus",
                                 start=chosen.start)
    wanted = asked if asked is not None else chosen
    items = []
    for number, file_items in zip(chosen, by_file.values(), strict=True):
        if number not in wanted:
            continue
        if questions_per_article and len(file_items) > questions_per_article:
            step = len(file_items) / questions_per_article
            file_items = [file_items[int(i * step)] for i in range(questions_per_article)]
        items.extend(file_items)
    engine = engine_for(Settings.from_env(corpus=workdir / "corpus", index_dir=workdir / "index"))
    engine.build()
    return run_backend("extractive", engine, items, extractive_answerer(engine, top_k), top_k)
