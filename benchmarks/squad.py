"""The SQuAD 2.0 benchmark (shared/bench/squad): 16 Wikipedia articles as 16 files, one
paragraph per line, 6,078 real questions of which 3,168 are impossible.

    python benchmarks/squad.py [--per-article N] [--trained-too]

All 16 articles are indexed together. The questions asked are those of the articles the
answerability model never saw (12-15, 1,629 questions); ``--trained-too`` also asks
those of articles 0-11, which it was trained on, and reports them on a row of their own.

Prints retrieval recall@8 (the gold paragraph among the retrieved passages), citation
recall/hit/precision (the gold paragraph's line cited), facts (an annotator's answer span
in the answer text), refusal of impossible questions and over-refusal of answerable ones,
and writes evals/reports/squad.json and .md. The index is kept in .rag/squad-bench.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rag.evaluation.runner import table, write_reports
from rag.evaluation.squad import TRAINED_ARTICLES, load_squad
from rag.evaluation.squad_run import run_squad

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "bench" / "squad" / "dev-v2.0.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-article", type=int, default=None)
    parser.add_argument("--trained-too", action="store_true",
                        help="also ask the questions of the articles the model was trained on")
    args = parser.parse_args()
    started = time.perf_counter()
    workdir = ROOT / ".rag" / "squad-bench"
    everything = range(len(load_squad(SQUAD)))  # every article is indexed
    held_out = range(TRAINED_ARTICLES, everything.stop)
    run = run_squad(SQUAD, workdir, everything, args.per_article, asked=held_out)
    run.note = f"articles {held_out.start}-{held_out.stop - 1}, held out: {run.summary.items} q"
    runs = [run]
    if args.trained_too:
        seen = run_squad(SQUAD, workdir, everything, args.per_article,
                         asked=range(TRAINED_ARTICLES))
        seen.note = f"articles 0-{TRAINED_ARTICLES - 1}, trained on: {seen.summary.items} q"
        runs.append(seen)
    print(table(runs))
    print(f"{time.perf_counter() - started:.0f} s")
    write_reports(runs, ROOT / "evals" / "reports", "squad")


if __name__ == "__main__":
    main()
