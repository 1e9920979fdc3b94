"""The checker against human labels: hand-written sentences, right and deliberately wrong
(evals/verifier.jsonl, support only), and real sentences a model wrote
(evals/verifier_real.jsonl about seeds/, evals/httpx/verifier_docs.jsonl about the httpx
documentation, both the local 1.5B model's; evals/capable/labels-news.jsonl and
labels-docs.jsonl, a capable model's about seeds/ and the httpx docs, and labels-uvicorn.jsonl
about uvicorn's docs, laid out under $RAG_REALQ_CORPORA; labelled by reading their cited
lines: supported, and answering the question).

    python benchmarks/verifier.py [--show] [--judge-model FILE [--judge-tokens 160] \
        --judge-at 0.5 ... --judge-below 0.0 ...]

"Passed" means the checker let a sentence through. On the real sentences the checker is
the LLM path's, run as it runs there (``rag.answer.llm.checking.Checker``: support, then
whether the sentence answers the question, with word vectors for near words and the
cited files' other lines), on the sentence and the lines the model cited; citing another
handed-out line instead is not counted (only the cited lines were labelled). A sentence is
acceptable when its labels say both supported and answering.

* false passes: acceptable? no, passed: yes, as a share of the unacceptable sentences;
* false drops: acceptable, dropped, as a share of the acceptable ones;
* balanced accuracy: the mean of the two recalls (unacceptable dropped, acceptable passed).
Wrong calls are printed with --show, so the checker's blind spots are on the record.

``--judge-model FILE`` (an answer judge made by ``scripts/answerability/
make_judge_rows.py`` and ``train.py``): the LLM path's checks again with that judge
allowed to overrule the word checks at probability T and to drop what every check passed
below V (``Checker.judge_at``, ``Checker.judge_below``), one report per ``--judge-at T``
and ``--judge-below V``; ``--judge-tokens``: the length it was trained at.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rag.answer.answerability import AnswerabilityModel, judge_passage
from rag.answer.lexicon import WordVectors
from rag.answer.llm.checking import CheckedSentence, Checker, Judge
from rag.answer.llm.context import SourceLine
from rag.corpus import quote_lines, read_lines
from rag.embeddings import MiniLMEmbedder
from rag.evaluation.dataset import laid_out_corpora
from rag.verify import sentence_support

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DOCS = ROOT.parent / "shared" / "bench" / "httpx-docs" / "docs"
REALQ_CORPORA = laid_out_corpora("realq")
# Labelled real sentences and the corpus their lines are in.
LABELLED = ((ROOT / "evals" / "verifier_real.jsonl", SEEDS),
            (ROOT / "evals" / "httpx" / "verifier_docs.jsonl", DOCS),
            # A capable (GPT-4-class) writer's sentences, through a stub endpoint.
            (ROOT / "evals" / "capable" / "labels-news.jsonl", SEEDS),
            (ROOT / "evals" / "capable" / "labels-docs.jsonl", DOCS),
            # ... and on a third project's docs, with questions real users asked there
            # (the corpus laid out as evals/realq/README.md says).
            (ROOT / "evals" / "capable" / "labels-uvicorn.jsonl", REALQ_CORPORA / "uvicorn"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every wrong call")
    parser.add_argument("--judge-model", type=Path, help="an answer judge's .onnx file")
    parser.add_argument("--judge-tokens", type=int, default=160,
                        help="the judge's input length, as trained")
    parser.add_argument("--judge-at", type=float, nargs="*", default=[0.5],
                        help="report the checks with the judge at these thresholds")
    parser.add_argument("--judge-below", type=float, nargs="*", default=[0.0],
                        help="and these drop thresholds")
    args = parser.parse_args()
    judge = judge_of(args.judge_model, args.judge_tokens) if args.judge_model else None
    hand = [json.loads(line) for line in (ROOT / "evals" / "verifier.jsonl").open()]
    calls = []
    for row in hand:
        quotes = [quote_lines(SEEDS, c["source"], c["line"], c["line"]) for c in row["cites"]]
        support = sentence_support(row["sentence"], quotes)
        calls.append((row["supported"], support.supported, row["sentence"], support.reasons))
    report("hand-written sentences (evals/verifier.jsonl), support", calls, args.show)
    similar = WordVectors(MiniLMEmbedder()).best
    for path, corpus in LABELLED:
        rows = [json.loads(line) for line in path.open()] if path.exists() else []
        rows = [r for r in rows if r["supported"] is not None and r["answers"] is not None]
        if rows and not corpus.is_dir():
            print(f"\n{path.relative_to(ROOT)}: its corpus {corpus} is not laid out; skipped")
        if not rows or not corpus.is_dir():
            continue
        measure(path.relative_to(ROOT).as_posix(), rows, corpus, similar, args.show)
        for at in args.judge_at if judge is not None else []:
            for below in args.judge_below:
                judged = []
                for r in rows:
                    checked = checked_row(r, similar, corpus, judge, at, below)
                    judged.append((r["supported"] and r["answers"], checked.passed,
                                   f"{r['question']} -> {r['sentence']}",
                                   list(checked.problems)))
                report(f"  ... with the answer judge at {at}, below {below}", judged,
                       args.show)


def judge_of(model_file: Path, tokens: int = 160) -> Judge:
    """The answer judge in ``model_file``, reading ``tokens`` tokens."""
    model = AnswerabilityModel(model_file, max_tokens=tokens)
    return lambda question, sentence, cited: float(
        model.probabilities(question, [judge_passage(sentence, cited)])[0])


def measure(name: str, rows: list[dict[str, Any]], corpus: Path, similar: Any,
            show: bool) -> None:
    """Support alone, then the LLM path's checks, against the labels of ``rows``."""
    support_calls, checker_calls = [], []
    for row in rows:
        checked = checked_row(row, similar, corpus)
        quotes = [quote_lines(corpus, c["source"], c["line"], c["line"]) for c in row["cites"]]
        support = sentence_support(row["sentence"], quotes, row["question"]) if quotes else None
        support_calls.append((row["supported"], bool(support and support.supported),
                              row["sentence"], support.reasons if support else ["cites nothing"]))
        checker_calls.append((row["supported"] and row["answers"], checked.passed,
                              f"{row['question']} -> {row['sentence']}", list(checked.problems)))
    report(f"real model sentences ({name}), support alone", support_calls, show)
    report(f"real model sentences ({name}), the LLM path's checks (support and answering)",
           checker_calls, show)


def checked_row(row: dict[str, Any], similar: Any, corpus: Path = SEEDS,
                judge: Judge | None = None, judge_at: float = 0.5,
                judge_below: float = 0.0) -> CheckedSentence:
    """The row's sentence checked as the LLM path checks it, with only its cited lines
    handed out (so the checker cannot cite another), with ``judge`` at these
    thresholds."""
    lines = {}
    for n, place in enumerate(row["cites"], 1):
        text = quote_lines(corpus, place["source"], place["line"], place["line"]).strip()
        lines[f"S{n}"] = SourceLine(f"S{n}", place["source"], place["line"], text)
    checker = Checker(lines, row["question"], similar,
                      lambda source: read_lines(corpus, source), judge=judge,
                      judge_at=judge_at, judge_below=judge_below)
    return checker.sentence(row["sentence"], list(lines))


def report(title: str, calls: Iterable[tuple[bool, bool, str, list[str]]], show: bool) -> None:
    """``calls``: (acceptable by the labels, passed by the checker, text, reasons)."""
    calls = list(calls)
    good = [c for c in calls if c[0]]
    bad = [c for c in calls if not c[0]]
    false_passes = [c for c in bad if c[1]]
    false_drops = [c for c in good if not c[1]]
    dropped_bad = 1 - len(false_passes) / len(bad) if bad else 1.0
    passed_good = 1 - len(false_drops) / len(good) if good else 1.0
    print(f"\n{title}: {len(calls)} sentences, {len(good)} acceptable, {len(bad)} not")
    print(f"  false passes: {len(false_passes)}/{len(bad)} = {1 - dropped_bad:.3f}")
    print(f"  false drops:  {len(false_drops)}/{len(good)} = {1 - passed_good:.3f}")
    print(f"  balanced accuracy: {(dropped_bad + passed_good) / 2:.3f}")
    if show:
        for acceptable, passed, text, reasons in calls:
            if acceptable != passed:
                what = "false pass" if passed else f"false drop {reasons}"
                print(f"    {what}: {text}")


if __name__ == "__main__":
    main()
