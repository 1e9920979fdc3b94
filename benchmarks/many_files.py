"""A warm question over 50,000 small files against the same over 500: the cost of the
freshness check that every question makes (issue 29: within 3x).

    python benchmarks/many_files.py [--files 50000] [--asks 10] [--work DIR]

Writes two corpora of one-sentence files (100 a folder), indexes each (the large one
takes minutes: 100,000 records), then asks the same question ``--asks`` times in one
process per corpus (the model loaded, the index built: a warm ask) and prints the median
of each and their ratio, with the time of one cold freshness scan of the large corpus.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.corpus import scan_corpus  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.settings import Settings  # noqa: E402

WORDS = "harbour ferry bridge tower crane lighthouse station market river pier canal".split()
QUESTION = "When was the harbour number 250 built?"


def write_corpus(folder: Path, files: int) -> None:
    if (folder / "done").exists():
        return
    rng = random.Random(0)
    for i in range(files):
        sub = folder / "docs" / f"d{i // 100:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        a, b, c = rng.sample(WORDS, 3)
        (sub / f"f{i:05d}.txt").write_text(
            f"The {a} number {i} was built in {1800 + i % 200} near the {b} and the {c}.\n")
    (folder / "done").write_text("")


def warm_asks(folder: Path, asks: int) -> list[float]:
    engine = Engine(Settings(corpus=folder / "docs", index_dir=folder / "index"))
    began = time.monotonic()
    engine.build()
    print(f"  {folder.name}: index ready in {time.monotonic() - began:.0f} s", flush=True)
    engine.ask(QUESTION)  # the model loaded, the index read
    seconds = []
    for _ in range(asks):
        began = time.perf_counter()
        engine.ask(QUESTION)
        seconds.append(time.perf_counter() - began)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--asks", type=int, default=10)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-many-files"))
    args = parser.parse_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    small, large = args.work / "small", args.work / f"large-{args.files}"
    write_corpus(small, 500)
    write_corpus(large, args.files)
    began = time.perf_counter()
    scan_corpus(large / "docs")
    scan = time.perf_counter() - began
    medians = {}
    for folder in (small, large):
        medians[folder.name] = statistics.median(warm_asks(folder, args.asks))
    ratio = medians[large.name] / medians[small.name]
    print(f"warm ask, median of {args.asks}: 500 files {medians[small.name] * 1000:.0f} ms, "
          f"{args.files} files {medians[large.name] * 1000:.0f} ms: {ratio:.1f}x "
          f"(one stat of every file of the large corpus: {scan * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
