"""Soak: a few thousand asks over threads, in one process, against the embedded index and
against a real ``chroma run`` on 127.0.0.1; throughput, latency percentiles, resident
memory as it goes, errors, and whether every answer to a question stayed the same.

    python benchmarks/soak.py [--asks 2000] [--threads 8] [--mode embedded|server|both]

Local only and bounded: the questions are evals/dev.jsonl's over seeds/, asked in turn
until ``--asks`` answers came back; the index goes to a temporary folder (and the server's
data too). Timings on a shared machine vary from run to run: read them beside each other
(the embedded and server rows of one run), never as absolute promises. Tests never
assert them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak(label: str, asks: int, threads: int, chroma_url: str | None) -> None:
    from rag.engine import Engine
    from rag.errors import RagError
    from rag.evaluation.dataset import load_items
    from rag.settings import Settings

    questions = [item.question for item in load_items(ROOT / "evals" / "dev.jsonl")]
    with tempfile.TemporaryDirectory() as index_dir:
        engine = Engine(Settings(corpus=ROOT / "seeds", index_dir=Path(index_dir),
                                 chroma_url=chroma_url))
        engine.build()
        engine.ask(questions[0])  # warm: model, index, backend loaded
        first: dict[str, str] = {}
        changed: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        latencies: list[float] = []
        rss: list[float] = [rss_mib()]
        lock = threading.Lock()

        def one(n: int) -> None:
            question = questions[n % len(questions)]
            began = time.perf_counter()
            try:
                answer = engine.ask(question)
            except RagError as exc:
                with lock:
                    errors[type(exc).__name__] += 1
                return
            took = time.perf_counter() - began
            key = answer.model_dump_json(exclude={"verification"})
            with lock:
                latencies.append(took)
                if first.setdefault(question, key) != key:
                    changed[question] += 1
                if n % 250 == 0:
                    rss.append(rss_mib())

        began = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(asks)))
        wall = time.perf_counter() - began
        rss.append(rss_mib())
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(f"{label:<9} {asks:>5} asks {threads:>2} threads  {len(latencies) / wall:6.1f} asks/s  "
          f"p50 {cuts[49] * 1000:6.0f} ms  p95 {cuts[94] * 1000:6.0f} ms  "
          f"p99 {cuts[98] * 1000:6.0f} ms  RSS {rss[0]:5.0f} -> {max(rss):5.0f} -> "
          f"{rss[-1]:5.0f} MiB  errors {sum(errors.values())}  "
          f"answers changed {sum(changed.values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--mode", choices=["embedded", "server", "both"], default="both")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; RSS: first ask done -> highest -> end")
    if args.mode in ("embedded", "both"):
        soak("embedded", args.asks, args.threads, None)
    if args.mode in ("server", "both"):
        from tests.chroma_server import chroma_server

        with tempfile.TemporaryDirectory() as data, chroma_server(Path(data)) as (url, _):
            soak("server", args.asks, args.threads, url)


if __name__ == "__main__":
    main()
