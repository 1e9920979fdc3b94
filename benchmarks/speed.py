"""Speed as ratios measured side by side in one run, with their spread: a warm ask
against its retrieval floor, and a cold ``rag ask`` against the import floor.

    python benchmarks/speed.py [--corpus seeds|docs|both] [--cold 5]

* warm ask ÷ floor: for each question (evals/dev.jsonl over seeds/, evals/httpx/
  docs-dev.jsonl over the httpx docs), the floor (embed the question once, one Chroma
  query for 8 chunks) and a whole ``Engine.ask`` are timed back to back; the table gives
  the median of the per-question ratios with its quartiles, and p50 and p95 of the asks
  over the p50 floor.
* cold ``rag ask`` ÷ import floor: a new ``rag ask`` process over an index already
  built, against a new process that only imports chromadb, onnxruntime, tokenizers and
  numpy; runs alternate, ``--cold`` of each; the ratio of the medians, with the lowest
  and highest ratio of a pair.

The machine is shared: absolute times move with its load, the ratios much less. Tests
never assert any of this. Issue 11's other rows (10k and 100k lines, LlamaIndex's
retrieve and build, build CPU against raw onnxruntime) are not measured yet: the SQuAD
subset beside the repository has 3,525 sentences, too few for a 10k-line corpus of
distinct text.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT.parent / "shared" / "bench" / "httpx-docs" / "docs"


def warm(label: str, corpus: Path, questions: list[str]) -> None:
    from rag.engine import Engine
    from rag.settings import Settings

    with tempfile.TemporaryDirectory() as index_dir:
        engine = Engine(Settings(corpus=corpus, index_dir=Path(index_dir)))
        engine.build()
        chunks = engine.store.collections["chunks"]
        for question in questions[:5]:  # warm: models, index, caches
            engine.ask(question)
        floors, asks, ratios = [], [], []
        for question in questions:
            began = time.perf_counter()
            vector = engine.embedder.embed_one(question)
            chunks.query(query_embeddings=[vector], n_results=8, include=["distances"])
            floor = time.perf_counter() - began
            began = time.perf_counter()
            engine.ask(question)
            ask = time.perf_counter() - began
            floors.append(floor)
            asks.append(ask)
            ratios.append(ask / floor)
    quartiles = statistics.quantiles(ratios, n=4)
    cuts = statistics.quantiles(asks, n=20)
    floor_p50 = statistics.median(floors)
    print(f"| warm ask ÷ floor, {label} ({len(questions)} questions) | "
          f"{statistics.median(ratios):.1f}× (quartiles {quartiles[0]:.1f}-{quartiles[2]:.1f}) | "
          f"p50 {statistics.median(asks) / floor_p50:.1f}×, p95 {cuts[18] / floor_p50:.1f}× "
          f"(floor p50 {floor_p50 * 1000:.0f} ms) |")


def cold(runs: int) -> None:
    env = {**os.environ, "RAG_INDEX_DIR": tempfile.mkdtemp()}
    rag = [str(Path(sys.executable).with_name("rag")), "ask", "--corpus", str(ROOT / "seeds"),
           "How many T-90 tanks did Egypt buy?"]
    subprocess.run(rag, env=env, capture_output=True, check=True)  # builds the index
    imports = [sys.executable, "-c", "import chromadb, onnxruntime, tokenizers, numpy"]
    pairs = []
    for _ in range(runs):
        times = []
        for command in (rag, imports):
            began = time.perf_counter()
            subprocess.run(command, env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - began)
        pairs.append((times[0], times[1]))
    ask = statistics.median(a for a, _ in pairs)
    floor = statistics.median(f for _, f in pairs)
    ratios = [a / f for a, f in pairs]
    print(f"| cold `rag ask` ÷ import floor ({runs} pairs) | {ask / floor:.2f}× "
          f"(pairs {min(ratios):.2f}-{max(ratios):.2f}) | ask {ask:.1f} s, imports "
          f"{floor:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["seeds", "docs", "both"], default="both")
    parser.add_argument("--cold", type=int, default=5, help="cold runs of each (0: none)")
    args = parser.parse_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    from rag.evaluation.dataset import load_items

    print("| ratio | median (spread) | detail |")
    print("|---|---|---|")
    if args.corpus in ("seeds", "both"):
        items = load_items(ROOT / "evals" / "dev.jsonl")
        warm("seeds", ROOT / "seeds", [i.question for i in items])
    if args.corpus in ("docs", "both") and DOCS.exists():
        items = load_items(ROOT / "evals" / "httpx" / "docs-dev.jsonl")
        warm("httpx docs", DOCS, [i.question for i in items])
    if args.cold:
        cold(args.cold)


if __name__ == "__main__":
    main()
