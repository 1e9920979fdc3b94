"""The SQuAD 2.0 benchmark (shared/bench/squad): 16 Wikipedia articles as 16 files, one
paragraph per line, 6,078 real questions of which 3,168 are impossible.

    python benchmarks/squad.py [--articles N] [--per-article N]

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
from rag.evaluation.squad_run import run_squad

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "bench" / "squad" / "dev-v2.0.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=None)
    parser.add_argument("--per-article", type=int, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    run = run_squad(SQUAD, ROOT / ".rag" / "squad-bench", args.articles, args.per_article)
    run.note = f"{run.summary.items} questions"
    print(table([run]))
    print(f"{time.perf_counter() - started:.0f} s")
    write_reports([run], ROOT / "evals" / "reports", "squad")


if __name__ == "__main__":
    main()
