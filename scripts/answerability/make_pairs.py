"""Build (question, passage, label) pairs from SQuAD 2.0 for the answerability model.

    python scripts/answerability/make_pairs.py OUT_DIR [--seeds evals/dev.jsonl evals/train.jsonl]

A pair is positive when the passage holds an annotated answer to the question. The
passages are cut the way rag cuts a corpus (``rag.chunking.sentence_spans`` over the
paragraph with its whitespace collapsed, as ``rag.evaluation.squad`` writes it), so the
model sees at training time the same kind of text the extractive backend scores:
- every sentence of the question's paragraph;
- the whole paragraph when it has two or three sentences (rag scores whole lines too);
- for unanswerable questions, the sentence holding the annotators' *plausible* answer:
  the hardest negative there is, a sentence about the asked thing that does not give it;
- the three sentences of the article's other paragraphs that share most content words
  with the question, as retrieval would find them.

Articles before ``rag.evaluation.squad.TRAINED_ARTICLES`` go to ``train.jsonl``; the
rest, never trained on, to ``valid.jsonl`` (and they stay the honest part of the SQuAD
benchmark).

``--seeds FILE...`` adds ``seeds.jsonl``: pairs from question sets about seeds/
(``evals/dev.jsonl`` and ``evals/train.jsonl``; never the eval or holdout sets), so the
model also sees news text. Each question's passages are the 30 sentences rag retrieves
for it: a sentence of a gold line is positive when it holds one of the required facts (or
is its line's only sentence); other sentences of gold lines are left out as unclear;
every other retrieved sentence is negative, all of them for an unanswerable question.

``--docs CORPUS FILE...`` adds ``docs.jsonl`` the same way from question sets about
another corpus (``evals/httpx/docs-train.jsonl`` about the httpx documentation), so the
model sees documentation too: prose, inline code, code lines, table rows read with their
header (as the extractive backend reads them).

``--realq UNITS`` adds ``realq.jsonl`` and ``realq_dev.jsonl``: pairs from the
real-question sets (``evals/realq/``), read from the units ``scripts/retrieval/
make_units.py`` cut from their corpora (train and dev projects; never test). A passage is
a sentence record as the judge reads it, after its heading path. Each question gives the
sentences of its gold lines (``REALQ_POSITIVES`` at most, positive) and the ``REALQ_HARD``
that BM25 ranks highest without holding a gold line (negative: the near misses a reader
must tell apart); the dev file keeps ``REALQ_DEV_HARD`` negatives, to measure ranking.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path
from typing import Any

from rag.evaluation.squad import TRAINED_ARTICLES, load_squad
from rag.language.sentences import sentence_spans
from rag.language.words import terms

ROOT = Path(__file__).resolve().parents[2]
SQUAD = ROOT.parent / "shared" / "bench" / "squad" / "dev-v2.0.json"
OTHER_PARAGRAPH_NEGATIVES = 3
REALQ_POSITIVES = 3
REALQ_HARD = 3
REALQ_DEV_HARD = 15


def collapse(text: str) -> str:
    return " ".join(text.split())


def answer_spans(context: str, answers: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Character spans of the answers in the whitespace-collapsed paragraph."""
    collapsed = collapse(context)
    spans = []
    for answer in answers:
        text = collapse(answer["text"])
        if not text:
            continue
        # Where the answer starts once the text before it is collapsed too.
        before = context[: answer["answer_start"]]
        guess = len(collapse(before)) + (1 if before[-1:].isspace() and before.strip() else 0)
        found = [i for i in _occurrences(collapsed, text)]
        if found:
            start = min(found, key=lambda i: abs(i - guess))
            spans.append((start, start + len(text)))
    return spans


def _occurrences(text: str, part: str) -> list[int]:
    out, at = [], text.find(part)
    while at >= 0:
        out.append(at)
        at = text.find(part, at + 1)
    return out


def pairs_for_article(article: dict[str, Any], number: int) -> list[dict[str, Any]]:
    paragraphs = [collapse(p["context"]) for p in article["paragraphs"]]
    sentences = [[(a, b, text[a:b]) for a, b in sentence_spans(text)] for text in paragraphs]
    sentence_terms = [[set(terms(s)) for _, _, s in para] for para in sentences]
    rows: list[dict[str, Any]] = []
    for p_index, paragraph in enumerate(article["paragraphs"]):
        text = paragraphs[p_index]
        for qa in paragraph["qas"]:
            question = qa["question"].strip()
            impossible = bool(qa["is_impossible"]) or not qa["answers"]
            gold = [] if impossible else answer_spans(paragraph["context"], qa["answers"])
            plausible = answer_spans(paragraph["context"], qa.get("plausible_answers", []))
            if not impossible and not gold:
                continue  # the answer could not be located: no trustworthy label

            def holds(a: int, b: int, spans: list[tuple[int, int]]) -> bool:
                return any(a <= s and e <= b for s, e in spans)

            base = {"question": question, "qid": qa["id"], "article": number}
            for a, b, sentence in sentences[p_index]:
                kind = "plausible" if holds(a, b, plausible) else "same_paragraph"
                rows.append({**base, "passage": sentence, "label": int(holds(a, b, gold)),
                             "kind": "answer" if holds(a, b, gold) else kind})
            if 2 <= len(sentences[p_index]) <= 3:
                whole = holds(0, len(text), gold) and bool(gold)
                rows.append({**base, "passage": text, "label": int(whole),
                             "kind": "answer_line" if whole else "line"})
            asked = set(terms(question))
            others = [
                (len(asked & sentence_terms[o][s]), o, s)
                for o in range(len(paragraphs)) if o != p_index
                for s in range(len(sentences[o]))
            ]
            others.sort(key=lambda r: (-r[0], r[1], r[2]))
            for overlap, o, s in others[:OTHER_PARAGRAPH_NEGATIVES]:
                if overlap == 0:
                    break
                rows.append({**base, "passage": sentences[o][s][2], "label": 0,
                             "kind": "other_paragraph"})
    return rows


def corpus_pairs(question_files: list[Path], corpus: Path, prefix: str) -> list[dict[str, Any]]:
    """Pairs from hand-written questions about ``corpus``: each question's 30 retrieved
    sentences, labelled by its gold lines and facts; kinds are ``prefix`` + ``_answer``,
    ``_other`` or ``_unanswerable``."""
    from rag.api import engine_for
    from rag.evaluation.dataset import load_items
    from rag.markdown_lines import MarkdownLines
    from rag.settings import Settings

    engine = engine_for(Settings.from_env(corpus=corpus))
    engine.build()
    retriever = engine.retriever()
    layout = MarkdownLines(retriever.store.corpus)
    rows: list[dict[str, Any]] = []
    for item in (i for path in question_files for i in load_items(path)):
        gold = item.relevant_lines()
        alternatives = [a.lower() for fact in item.facts for a in fact]
        base = {"question": item.question, "qid": item.id, "article": -1}
        for found in retriever.search(item.question, 30, "sentences"):
            p = layout.readable(found)
            if (p.source, p.start_line) in gold:
                line = retriever.stats.line_sentences(p.source, p.start_line)
                if len(line) > 1 and not any(a in p.text.lower() for a in alternatives):
                    continue
                rows.append({**base, "passage": p.text, "label": 1, "kind": f"{prefix}_answer"})
            else:
                kind = f"{prefix}_other" if item.answerable else f"{prefix}_unanswerable"
                rows.append({**base, "passage": p.text, "label": 0, "kind": kind})
    return rows


def realq_pairs(units: Path, split: str, hard: int) -> list[dict[str, Any]]:
    """Pairs from the real-question units of one split (see the module's docstring)."""
    rows: list[dict[str, Any]] = []
    for questions in sorted((units / split).glob("*.questions.jsonl")):
        slug = questions.name.removesuffix(".questions.jsonl")
        with gzip.open(units / split / f"{slug}.jsonl.gz", "rt", encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        sentences = [r["text"] for r in records if r["level"] == "sentences"]
        for line in questions.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            base = {"question": item["question"], "qid": item["id"], "article": -1}
            for index in item["pos"][:REALQ_POSITIVES]:
                rows.append({**base, "passage": sentences[index], "label": 1,
                             "kind": "realq_answer"})
            kind = "realq_other" if item["answerable"] else "realq_unanswerable"
            for index in item["hard"][:hard]:
                rows.append({**base, "passage": sentences[index], "label": 0, "kind": kind})
    return rows


def write(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    positives = sum(r["label"] for r in rows)
    questions = len({r["qid"] for r in rows})
    print(f"{path.stem}: {questions} questions, {len(rows)} pairs, {positives} positive")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seeds", type=Path, nargs="+", help="question sets about seeds/ to add")
    parser.add_argument("--docs", type=Path, nargs="+", metavar=("CORPUS", "FILE"),
                        help="a corpus folder, then question sets about it to add")
    parser.add_argument("--realq", type=Path, metavar="UNITS",
                        help="units of the real-question sets (scripts/retrieval/make_units.py)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    articles = load_squad(SQUAD)
    for name, chosen in (("train", range(TRAINED_ARTICLES)),
                         ("valid", range(TRAINED_ARTICLES, len(articles)))):
        write([row for n in chosen for row in pairs_for_article(articles[n], n)],
              args.out / f"{name}.jsonl")
    if args.seeds:
        write(corpus_pairs(args.seeds, ROOT / "seeds", "seeds"), args.out / "seeds.jsonl")
    if args.docs:
        if len(args.docs) < 2:
            parser.error("--docs takes a corpus folder and at least one question set")
        write(corpus_pairs(args.docs[1:], args.docs[0], "docs"), args.out / "docs.jsonl")
    if args.realq:
        write(realq_pairs(args.realq, "train", REALQ_HARD), args.out / "realq.jsonl")
        write(realq_pairs(args.realq, "dev", REALQ_DEV_HARD), args.out / "realq_dev.jsonl")


if __name__ == "__main__":
    main()
