"""Speed and memory of the offline path over seeds/: index build, cold and warm ask().

    python benchmarks/latency.py [--corpus seeds] [--repeat 3]

Each phase runs in this one process, in order: a cold build into a fresh temporary
index folder, a rebuild with nothing changed, the first ask (model and index load), then
every question of evals/dev.jsonl asked warm, ``--repeat`` times. Peak resident memory is
read from the OS at the end. The numbers go in the README; tests never assert timings.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as index_dir:
        os.environ["RAG_INDEX_DIR"] = index_dir
        t0 = time.perf_counter()
        import rag
        from rag.evaluation.dataset import load_items

        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        stats = rag.build_index(args.corpus)
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        rag.build_index(args.corpus)
        t_rebuild = time.perf_counter() - t0
        questions = [item.question for item in load_items(ROOT / "evals" / "dev.jsonl")]
        t0 = time.perf_counter()
        rag.ask(questions[0], corpus=args.corpus)
        t_first = time.perf_counter() - t0
        warm = []
        for _ in range(args.repeat):
            for question in questions:
                t0 = time.perf_counter()
                rag.ask(question, corpus=args.corpus)
                warm.append(time.perf_counter() - t0)
    warm.sort()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}")
    print(f"corpus: {args.corpus.name}, {stats.files} files, {stats.chunks} chunks, "
          f"{stats.sentences} sentences")
    print(f"import rag                      {t_import * 1000:8.0f} ms")
    print(f"build index (cold, embeds all)  {t_build * 1000:8.0f} ms")
    print(f"build index (nothing changed)   {t_rebuild * 1000:8.0f} ms")
    print(f"first ask (loads model, index)  {t_first * 1000:8.0f} ms")
    print(f"warm ask, {len(warm)} questions:  median {statistics.median(warm) * 1000:.0f} ms, "
          f"p95 {warm[int(0.95 * (len(warm) - 1))] * 1000:.0f} ms, "
          f"max {warm[-1] * 1000:.0f} ms")
    print(f"peak resident memory            {peak_mib:8.0f} MiB")


if __name__ == "__main__":
    main()
