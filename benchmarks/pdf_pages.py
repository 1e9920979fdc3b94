"""Reading a long PDF: time and peak memory of extracting it (cold), and of reading it
again from the extraction kept by its hash, what each later process's quote check does
(issue 30: a 1,000-page manual, bounded).

    python benchmarks/pdf_pages.py [--pages 1000] [--lines 45] [--work DIR]

The PDF is written by ``tests/pdfs.py`` (real PDF objects, one text line an operator),
``--lines`` lines a page; its extraction cache goes to ``--work``, never to the user's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pdfs import pdf_bytes  # noqa: E402


def measure(label: str, data: bytes) -> None:
    import rag.pdf

    rag.pdf._cache.clear()  # the in-process copy: measure the disk or a fresh extraction
    tracemalloc.start()
    began = time.perf_counter()
    lines = rag.pdf.pdf_lines(data)
    took = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{label:<28} {took:8.2f} s  peak {peak / 2**20:7.1f} MiB  {len(lines)} lines",
          flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=45)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-pdf-bench"))
    args = parser.parse_args()
    os.environ["XDG_CACHE_HOME"] = str(args.work / "cache")
    for stale in (args.work / "cache").rglob("*.json"):
        stale.unlink()
    pages = [[f"Section {p}.{i}: the pump model P{p} moves {p + i} litres a minute at "
              f"full speed." for i in range(args.lines)] for p in range(args.pages)]
    data = pdf_bytes(pages)
    print(f"{args.pages} pages, {len(data) / 2**20:.1f} MiB")
    measure("extract (cold)", data)
    measure("read again (kept by hash)", data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
