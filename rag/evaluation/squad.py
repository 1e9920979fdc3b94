"""SQuAD 2.0 as a rag corpus and eval set: one file per article, one paragraph per line.

Real questions nobody on this project wrote, half of them written to look answerable from
a paragraph that does not answer them. The gold citation of an answerable question is
the line of its paragraph; its required facts are the annotators' answer spans.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.evaluation.dataset import EvalItem, GoldFact, LineRange

__all__ = ["TRAINED_ARTICLES", "load_squad", "write_squad_corpus"]

# The answerability model (rag/answer/answerability.py) was trained on the questions of
# the first twelve articles (scripts/answerability/make_pairs.py); only the questions of
# the others measure it honestly.
TRAINED_ARTICLES = 12


def load_squad(path: Path) -> list[dict[str, Any]]:
    """The ``data`` list of a SQuAD 2.0 JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return list(data["data"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot read SQuAD file {path}: {exc}") from exc


def write_squad_corpus(
    articles: list[dict[str, Any]], corpus_dir: Path, start: int = 0
) -> dict[str, list[EvalItem]]:
    """Write one ``.txt`` per article under ``corpus_dir`` and return its eval items.

    Files are numbered from ``start`` (an article's number in the whole set). Returns
    the items of each article keyed by its file name, in file order. A file is
    rewritten only when its text differs, so an existing index stays valid.
    """
    corpus_dir.mkdir(parents=True, exist_ok=True)
    items: dict[str, list[EvalItem]] = {}
    for number, article in enumerate(articles, start=start):
        source = f"{number:02d}_{_slug(article['title'])}.txt"
        paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]]
        text = "\n".join(paragraphs) + "\n"
        path = corpus_dir / source
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        items[source] = [
            _item(source, line, qa)
            for line, paragraph in enumerate(article["paragraphs"], start=1)
            for qa in paragraph["qas"]
        ]
    return items


def _item(source: str, line: int, qa: dict[str, Any]) -> EvalItem:
    answers = list(dict.fromkeys(" ".join(a["text"].split()) for a in qa["answers"]))
    if qa["is_impossible"] or not answers:
        return EvalItem(
            id=qa["id"], question=qa["question"], answerable=False, category="unanswerable",
            answer="The paragraph does not answer this question.", gold=[], facts=[],
        )
    where = LineRange(source=source, start_line=line, end_line=line)
    return EvalItem(
        id=qa["id"], question=qa["question"], answerable=True, category="single_fact",
        answer=answers[0], gold=[GoldFact(fact=answers[0], any_of=[where])], facts=[answers],
    )


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")
