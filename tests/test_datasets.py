"""The written question sets are well formed (evals/check_dataset.py: every gold line
exists, is not blank and holds one of its facts' words), and the documentation questions
the answerability model trains on do not repeat the documentation eval sets."""

from __future__ import annotations

import importlib.util

import pytest

from rag.evaluation.dataset import load_items, near_duplicates
from tests.conftest import ROOT

EVALS = ROOT / "evals"
DOCS = ROOT.parent / "shared" / "bench" / "httpx-docs" / "docs"
# The blind sets too: checking their gold lines against the files reads no score.
SEEDS_SETS = ("dataset", "dev", "train", "train2", "holdout4")
DOCS_SETS = ("docs-dev", "docs-train", "docs-holdout2")


def _checker():  # evals/ is not a package
    spec = importlib.util.spec_from_file_location("check_dataset", EVALS / "check_dataset.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SEEDS_SETS)
def test_seeds_sets_are_well_formed(name: str) -> None:
    checker = _checker()
    problems, counts, _ = checker.check_file(
        EVALS / f"{name}.jsonl", checker.load_source_lines(ROOT / "seeds"))
    assert problems == []
    assert sum(counts.values()) > 50


@pytest.mark.skipif(not DOCS.is_dir(), reason="../shared/bench/httpx-docs is not beside the repo")
@pytest.mark.parametrize("name", DOCS_SETS)
def test_docs_sets_are_well_formed(name: str) -> None:
    checker = _checker()
    problems, counts, answerable = checker.check_file(
        EVALS / "httpx" / f"{name}.jsonl", checker.load_corpus_lines(DOCS))
    assert problems == []
    assert counts["unanswerable"] >= sum(counts.values()) // 5  # a fifth or more
    assert answerable[True] >= 30


@pytest.mark.parametrize("other", ["docs-dev", "docs-holdout"])
def test_docs_training_questions_do_not_repeat_eval_questions(other: str) -> None:
    """No docs-train question shares more than 40 % of its words with a question of the
    sets that measure the model (the comparison reads the blind set's questions; only
    docs-train ids are shown)."""
    mine = load_items(EVALS / "httpx" / "docs-train.jsonl")
    assert near_duplicates(mine, load_items(EVALS / "httpx" / f"{other}.jsonl"), 0.4) == set()


REALQ = EVALS / "realq"


def test_real_question_sets_are_split_by_project_and_keep_the_reserved_projects_out() -> None:
    """Every item loads as an EvalItem, its project's metadata and file list exist, a
    project is in one split only, thread questions name their thread, and none comes from
    the projects reserved for the team's blind checks (uv, httpx's threads, pip). The
    gold lines are checked against the corpora by evals/realq/check.py, where they are laid
    out (the docs are not in this repository)."""
    import json

    seen: dict[str, str] = {}
    ids: set[str] = set()
    for split in ("train", "dev", "test"):
        for path in sorted((REALQ / split).glob("*.jsonl")):
            slug = path.stem
            assert slug not in seen, f"{slug} is in {seen.get(slug)} and {split}"
            seen[slug] = split
            meta = json.loads((REALQ / "projects" / f"{slug}.json").read_text())
            assert meta["split"] == split
            assert meta["repo"].lower() not in ("astral-sh/uv", "pypa/pip", "encode/httpx")
            assert (REALQ / "files" / f"{slug}.sha256").read_text().strip()
            for item in load_items(path):
                assert item.id.startswith(f"{slug}-")
                assert item.id not in ids
                ids.add(item.id)
                assert item.origin in ("thread", "written")
                if item.origin == "thread":
                    assert item.url.startswith("https://github.com/"), item.id
                    repo = "/".join(item.url.split("/")[3:5]).lower()
                    assert repo not in ("astral-sh/uv", "encode/httpx", "pypa/pip"), item.id
    assert sum(split == "train" for split in seen.values()) >= 30
    assert len(ids) >= 5000


@pytest.mark.parametrize("kind", ["rst", "pdf"])
def test_format_sets_name_their_project_and_split(kind: str) -> None:
    """evals/rst (Sphinx docs) and evals/pdf (PDF manuals): one source a split, each item
    loads, ids are the source's, and a quarter or more of each set is unanswerable (the
    files are laid out by evals/realq/export.py --set DIR; evals/realq/check.py --set DIR
    checks the gold lines against them)."""
    import json

    rst = EVALS / kind
    for split in ("dev", "test"):
        (path,) = sorted((rst / split).glob("*.jsonl"))
        meta = json.loads((rst / "projects" / f"{path.stem}.json").read_text())
        assert meta["split"] == split
        assert meta["repo"].lower() not in ("astral-sh/uv", "pypa/pip", "encode/httpx")
        assert (rst / "files" / f"{path.stem}.sha256").read_text().strip()
        items = load_items(path)
        assert len(items) >= 40
        assert all(i.id.startswith(f"{path.stem}-") for i in items)
        assert sum(not i.answerable for i in items) >= len(items) / 4
