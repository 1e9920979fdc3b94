"""Deterministic metrics, as defined in evals/README.md.

Per answer:
* citation recall: share of the gold facts with at least one cited line among the lines
  that state that fact; citation hit: at least one cited line states a gold fact;
* citation precision: share of cited lines that state some gold fact;
* faithfulness: share of answer sentences that their own cited lines support
  (``rag.verify.sentence_support``);
* facts: share of required facts found in the answer text; token F1 against the
  hand-written answer (SQuAD normalisation);
* unsupported: of the answer's sentences that people labelled (``evals/verifier_real.jsonl``
  by the sentence and the lines it cites), how many the labels say their lines do not
  support; sentences nobody labelled are counted apart, never guessed;
Over a set: the means of the above over answerable items, with refusal precision and
recall on unanswerable items and the over-refusal rate on answerable ones.
"""

from __future__ import annotations

import statistics
import string
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel

from rag.engine import MARKER
from rag.evaluation.dataset import EvalItem
from rag.evaluation.labels import Label, sentence_id
from rag.types import Answer
from rag.verify import cited_sentences, sentence_support, split_cited

__all__ = ["ItemScore", "Summary", "score_item", "summarize", "token_f1"]


class ItemScore(BaseModel):
    id: str
    category: str
    answerable: bool
    refused: bool
    citation_recall: float | None = None
    citation_hit: float | None = None
    citation_precision: float | None = None
    faithfulness: float | None = None
    facts: float | None = None
    token_f1: float | None = None
    retrieval_recall: float | None = None  # gold facts with a gold line in the top-k passages
    fell_back: bool = False  # an LLM answer replaced by the extractive one
    seconds: float | None = None  # the model's time on this question, as its server reported
    labelled: int = 0  # returned sentences with a human label
    unsupported: int = 0  # of those, labelled not supported by their cited lines
    unlabelled: int = 0  # returned sentences nobody labelled


class Summary(BaseModel):
    items: int
    answerable: int
    unanswerable: int
    citation_recall: float
    citation_hit: float
    citation_precision: float
    faithfulness: float
    facts: float
    token_f1: float
    refusal_recall: float  # unanswerable items refused
    refusal_precision: float  # refusals that were right to refuse
    over_refusal: float  # answerable items refused
    retrieval_recall: float | None = None
    fell_back: float = 0.0  # share of answers an LLM backend handed to the extractive one
    fell_back_answerable: float = 0.0  # the same, over answerable questions
    seconds: float | None = None  # median model seconds a question, where recorded
    unsupported: float | None = None  # share of labelled returned sentences unsupported
    unlabelled: int = 0  # returned sentences without a label


def cited_lines(answer: Answer) -> set[tuple[str, int]]:
    return {
        (c.source, n) for c in answer.citations for n in range(c.start_line, c.end_line + 1)
    }


def score_item(
    item: EvalItem, answer: Answer, retrieved: set[tuple[str, int]] | None = None,
    labels: dict[str, Label] | None = None,
) -> ItemScore:
    """Score one answer against its hand-written item (and its sentences against their
    human labels, when ``labels`` are given)."""
    score = ItemScore(
        id=item.id, category=item.category, answerable=item.answerable, refused=answer.refused,
        fell_back=bool(answer.verification and answer.verification.fell_back),
    )
    if labels is not None and not answer.refused:
        _score_labels(score, answer, labels)
    if item.gold and retrieved is not None:
        score.retrieval_recall = sum(bool(g.lines() & retrieved) for g in item.gold) / len(
            item.gold
        )
    if not item.answerable:
        return score
    text = MARKER.sub("", answer.text)
    score.facts = _facts_found(item.facts, text) if not answer.refused else 0.0
    score.token_f1 = token_f1(text, item.answer) if not answer.refused else 0.0
    if answer.refused:
        score.citation_recall = score.citation_hit = 0.0
        return score
    cited = cited_lines(answer)
    relevant = item.relevant_lines()
    score.citation_recall = sum(bool(g.lines() & cited) for g in item.gold) / len(item.gold)
    score.citation_hit = float(bool(cited & relevant))
    score.citation_precision = len(cited & relevant) / len(cited) if cited else 0.0
    sentences = cited_sentences(answer)
    if sentences:
        supported = sum(sentence_support(s, quotes, item.question).supported
                        for s, quotes in sentences)
        score.faithfulness = supported / len(sentences)
    else:
        score.faithfulness = 0.0
    return score


def _score_labels(score: ItemScore, answer: Answer, labels: dict[str, Label]) -> None:
    for sentence, numbers in split_cited(answer.text):
        cited = [answer.citations[n - 1] for n in numbers if 0 < n <= len(answer.citations)]
        lines = [(c.source, n) for c in cited for n in range(c.start_line, c.end_line + 1)]
        label = labels.get(sentence_id(answer.question, sentence, lines))
        if label is None:
            score.unlabelled += 1
        else:
            score.labelled += 1
            score.unsupported += not label.supported


def summarize(scores: Sequence[ItemScore]) -> Summary:
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    refused = [s for s in scores if s.refused]
    retrieval = [s.retrieval_recall for s in scores if s.retrieval_recall is not None]
    return Summary(
        items=len(scores),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        citation_recall=_mean(s.citation_recall for s in answerable),
        citation_hit=_mean(s.citation_hit for s in answerable),
        citation_precision=_mean(s.citation_precision for s in answerable),
        faithfulness=_mean(s.faithfulness for s in answerable),
        facts=_mean(s.facts for s in answerable),
        token_f1=_mean(s.token_f1 for s in answerable),
        refusal_recall=_ratio(sum(s.refused for s in unanswerable), len(unanswerable)),
        refusal_precision=_ratio(sum(not s.answerable for s in refused), len(refused)),
        over_refusal=_ratio(sum(s.refused for s in answerable), len(answerable)),
        retrieval_recall=_mean(retrieval) if retrieval else None,
        fell_back=_ratio(sum(s.fell_back for s in scores), len(scores)),
        fell_back_answerable=_ratio(sum(s.fell_back for s in answerable), len(answerable)),
        seconds=statistics.median(timed) if (timed := [
            s.seconds for s in scores if s.seconds is not None]) else None,
        unsupported=_ratio(sum(s.unsupported for s in scores), labelled)
        if (labelled := sum(s.labelled for s in scores)) else None,
        unlabelled=sum(s.unlabelled for s in scores),
    )


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1: lower case, punctuation and articles removed."""
    pred, ref = _tokens(prediction), _tokens(reference)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _facts_found(facts: list[list[str]], text: str) -> float:
    if not facts:
        return 1.0
    plain = _plain(text)
    return sum(any(_plain(alt) in plain for alt in alts) for alts in facts) / len(facts)


def _plain(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'").replace("–", "-")
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    text = _plain(text)
    text = "".join(" " if ch in string.punctuation or ch in "“”’‘" else ch for ch in text)
    return [w for w in text.split() if w not in {"a", "an", "the"}]


def _mean(values: object) -> float:
    vals = [v for v in values if v is not None]  # type: ignore[attr-defined]
    return sum(vals) / len(vals) if vals else 0.0


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0

