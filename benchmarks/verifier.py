"""Precision and recall of the support checker (rag.verify.sentence_support) on
hand-written answer sentences, right and deliberately wrong (evals/verifier.jsonl).

    python benchmarks/verifier.py [--show]

"Flagged" means the checker said a sentence is not supported by the lines it cites. The
positive class is a wrong sentence: precision is the share of flagged sentences that
were wrong, recall the share of wrong sentences that were flagged. Misses are printed
with --show, so the checker's blind spots are on the record.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from rag.corpus import quote_lines
from rag.verify import sentence_support

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every wrong call")
    args = parser.parse_args()
    rows = [json.loads(line) for line in (ROOT / "evals" / "verifier.jsonl").open()]
    counts: Counter[str] = Counter()
    for row in rows:
        quotes = [quote_lines(ROOT / "seeds", c["source"], c["line"], c["line"])
                  for c in row["cites"]]
        support = sentence_support(row["sentence"], quotes)
        flagged = not support.supported
        wrong = not row["supported"]
        counts[("t" if flagged == wrong else "f") + ("p" if flagged else "n")] += 1
        if args.show and flagged != wrong:
            print(f"{'missed' if wrong else 'false alarm'} [{row['kind']}] {row['sentence']}"
                  f" -> {support.reasons}")
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    print(f"{len(rows)} sentences: {tp + fn} wrong, {tn + fp} right")
    print(f"wrong sentences flagged (recall):     {tp}/{tp + fn} = {tp / max(1, tp + fn):.2f}")
    print(f"flags that were right (precision):    {tp}/{tp + fp} = {tp / max(1, tp + fp):.2f}")
    print(f"right sentences passed:               {tn}/{tn + fp} = {tn / max(1, tn + fp):.2f}")


if __name__ == "__main__":
    main()
