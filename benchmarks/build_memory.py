"""Peak memory of ``rag index`` as the corpus grows: another checkout's code (``--before``,
say main's) beside this one's, every build in its own process, side by side in one run
(issue 29, item 11: a 200 MB corpus rose to 2.3 GB while cutting).

    python benchmarks/build_memory.py [--sizes 5 20 60] [--stop-after 2500]
                                      [--whole 0.5] [--before ../main] [--work DIR]

The peak is ``VmHWM`` from ``/proc/self/status``, read inside the build's process (not
``ru_maxrss``, which Linux carries over from the forked parent). Corpora of about
``--sizes`` MiB of .txt and .md files are written from seeds/ and the httpx docs
(``../shared/bench/httpx-docs``), copy after copy, every number changed and every text
line tagged with its copy, so that no two lines are the same; kept in ``--work``.

* stopped: ``rag index`` (the CLI's command, the real embedder, a new embedded Chroma) of
  each corpus, its progress object replaced by one that notes the peak at the first
  report, when every file has been read and cut (the old code holds them all then; this
  one has counted every group and holds the last), and stops the process once
  ``--stop-after`` records are embedded and written. Embedding all of 60 MiB would take
  most of a day on two shared cores; no later group holds more than the first (each is
  read and cut after the one before is let go), and what does grow with every record
  written, Chroma's, grows the same in both.
* whole: ``rag index`` of ``--whole`` MiB to its end (the manifest, garbage collection
  and the committed copy, which holds every record's text), and the two manifests
  compared byte for byte: ``--before`` should then be the commit this code left from
  (``git archive <commit> rag | tar -x -C DIR``), or the manifests differ in the digest of
  the cutting code, and maybe in records.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT.parent / "shared" / "bench" / "httpx-docs" / "docs"

_CHILD = """
import os, sys, time
import rag.cli
import rag.index.copy

def peak():
    return next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmHWM")) / 1024

began = time.perf_counter()
stop_after = int(sys.argv[2])

class Stopping(rag.cli._Progress):
    def weighted(self, done, total, work_done, work_total):
        if not hasattr(self, "counted"):
            self.counted = True
            print("cut", peak(), time.perf_counter() - began, total, flush=True)
        if stop_after and done >= stop_after:
            print("stop", peak(), time.perf_counter() - began, done, flush=True)
            os._exit(0)
        super().weighted(done, total, work_done, work_total)

rag.cli._Progress = Stopping
save = rag.index.copy.CommittedCopy.save

def noted_save(self, *args):
    print("copy", peak(), time.perf_counter() - began, flush=True)
    return save(self, *args)

rag.index.copy.CommittedCopy.save = noted_save
code = rag.cli.main(["index", "--corpus", sys.argv[1]])
print("end", peak(), time.perf_counter() - began, code, flush=True)
"""


def write_corpus(folder: Path, mib: float) -> Path:
    """About ``mib`` MiB of distinct text in .txt and .md files, 50 a folder."""
    if (folder / "done").exists():
        return folder
    pages = [*sorted((ROOT / "seeds").glob("*.txt")), *sorted(DOCS.rglob("*.md"))]
    sources = [(page.name, page.read_text(encoding="utf-8")) for page in pages]
    rng = random.Random(0)
    size = n = 0
    while size < mib * 2**20:
        name, text = sources[n % len(sources)]
        copy = n // len(sources)
        text = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randrange(1, 10**6)), text)
        text = "\n".join(
            f"{line} (v{copy}.{i})" if line.strip() and not line.startswith(("#", "```", "|"))
            else line for i, line in enumerate(text.split("\n")))
        stem, suffix = name.rsplit(".", 1)
        path = folder / f"part-{copy // 50:03d}" / f"{stem}-{copy:04d}.{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        size += len(text.encode())
        n += 1
    (folder / "done").write_text("")
    return folder


def build(code: Path, corpus: Path, stop_after: int,
          keep: Path | None = None) -> dict[str, list[float]]:
    """One ``rag index`` of ``corpus`` by the checkout ``code``, in its own process, with a
    new index folder (kept at ``keep`` when given); what it printed, by line kind."""
    with tempfile.TemporaryDirectory(prefix="rag-build-memory-") as scratch:
        index_dir = keep or Path(scratch)
        env = {**os.environ, "PYTHONPATH": str(code), "RAG_INDEX_DIR": str(index_dir),
               "ORT_DISABLE_TELEMETRY": "1"}
        run = subprocess.run([sys.executable, "-c", _CHILD, str(corpus), str(stop_after)],
                             env=env, capture_output=True, text=True, check=False, cwd=code)
    said = {words[0]: [float(x) for x in words[1:]]
            for words in map(str.split, run.stdout.splitlines())
            if words[:1] in (["cut"], ["stop"], ["copy"], ["end"])}
    if run.returncode or not said:
        raise SystemExit(f"build by {code} failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return said


def _compared(before: list[bytes], after: list[bytes]) -> str:
    """Whether two index folders' manifests are byte for byte the same, and if not, which
    of their fields differ (``cutting`` alone: the two checkouts cut with other code)."""
    if len(before) != 1 or len(after) != 1:
        return f"{len(before)} and {len(after)} manifests"
    if before == after:
        return "byte-identical"
    old, new = json.loads(before[0]), json.loads(after[0])
    return "differ in " + ", ".join(key for key in old.keys() | new.keys()
                                    if old.get(key) != new.get(key))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="*", default=[5, 20, 60])
    parser.add_argument("--stop-after", type=int, default=2500)
    parser.add_argument("--whole", type=float, default=0.5, help="MiB built to the end; 0: none")
    parser.add_argument("--before", type=Path, default=ROOT.parent / "main")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-build-memory"))
    args = parser.parse_args()
    sides = {"before": args.before.resolve(), "after": ROOT}
    print(f"before: {sides['before']}, after: {ROOT}")
    if args.sizes:
        print("| corpus | records | before: peak read+cut, at stop | after: peak read+cut, "
              "at stop | after ÷ before at stop | seconds until embedding starts, before / after |")
        print("|---|---|---|---|---|---|")
    for mib in args.sizes:
        corpus = write_corpus(args.work / f"corpus-{mib:g}", mib)
        said = {side: build(code, corpus, args.stop_after) for side, code in sides.items()}
        b, a = said["before"], said["after"]
        print(f"| {mib:g} MiB | {int(b['cut'][2]):,} | {b['cut'][0]:,.0f} MiB, "
              f"{b['stop'][0]:,.0f} MiB | {a['cut'][0]:,.0f} MiB, {a['stop'][0]:,.0f} MiB | "
              f"{a['stop'][0] / b['stop'][0]:.2f}× | {b['cut'][1]:.0f} / {a['cut'][1]:.0f} |",
              flush=True)
    if args.whole:
        corpus = write_corpus(args.work / f"corpus-{args.whole:g}", args.whole)
        manifests = {}
        for side, code in sides.items():
            with tempfile.TemporaryDirectory(prefix="rag-build-memory-") as index_dir:
                began = time.perf_counter()
                said = build(code, corpus, 0, Path(index_dir))
                seconds = time.perf_counter() - began
                manifests[side] = [p.read_bytes() for p in Path(index_dir).glob("manifest-*")]
            print(f"| whole `rag index`, {args.whole:g} MiB, {side} | "
                  f"{int(said['cut'][2]):,} records | peak {said['end'][0]:,.0f} MiB "
                  f"(read+cut {said['cut'][0]:,.0f} MiB, before the committed copy "
                  f"{said['copy'][0]:,.0f} MiB) | {seconds:.0f} s |", flush=True)
        print(f"manifests: {_compared(manifests['before'], manifests['after'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
