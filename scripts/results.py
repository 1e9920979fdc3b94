"""Regenerate docs/results.md: the current numbers, each table with the command that made it.

    python scripts/results.py [--skip-realq] [--verifier] [--realq-test]

Runs ``rag eval`` on the public question sets (the LLM rows replayed from the recorded
cassettes), ``benchmarks/realq.py --split dev`` where the real-question corpora are laid
out (evals/realq/README.md), and with ``--verifier`` the checker against people's labels;
then writes every table to docs/results.md, which nobody edits by hand. History is in the
git log and CHANGELOG.md, not here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTTPX_DOCS = ROOT.parent / "shared" / "bench" / "httpx-docs" / "docs"
SETS = (
    ("news questions about seeds/", "evals/dataset.jsonl", None),
    ("httpx documentation, page-written", "evals/httpx/docs-dev.jsonl", HTTPX_DOCS),
)
EVAL_COLUMNS = (("hit", "citation_hit"), ("precision", "citation_precision"),
                ("recall", "citation_recall"), ("facts", "facts"),
                ("faithful", "faithfulness"), ("refusal", "refusal_recall"),
                ("over-refusal", "over_refusal"), ("retrieval@8", "retrieval_recall"),
                ("fallback", "fell_back_answerable"), ("unsupported", "unsupported"),
                ("s/question", "seconds"))
BACKEND_NAMES = {"extractive": "extractive", "openai": "local model through the checks "
                 "(replayed)", "baseline": "LlamaIndex CitationQueryEngine, same model, "
                 "unchecked (replayed)"}


def run(command: list[str]) -> str:
    print("$ " + " ".join(command), file=sys.stderr, flush=True)
    env = {**os.environ, "ORT_DISABLE_TELEMETRY": "1"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env,
                          check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 10 else f"{value:.0f}"
    return str(value)


def eval_tables(out: Path) -> list[str]:
    parts = []
    rag = str(Path(sys.executable).with_name("rag"))
    for title, path, corpus in SETS:
        command = [rag, "eval", "--set", path, "--out", str(out)]
        if corpus is not None:
            command += ["--corpus", str(corpus)]
        run(command)
        report = json.loads((out / f"{Path(path).stem}.json").read_text())
        shown = f"rag eval --set {path}" + (
            f" --corpus {os.path.relpath(corpus, ROOT)}" if corpus is not None else "")
        items = next(iter(report.values()))["summary"]["items"]
        lines = [f"### {title} (`{path}`, {items} questions)", "",
                 f"`{shown}`", "",
                 "| backend | " + " | ".join(h for h, _ in EVAL_COLUMNS) + " |",
                 "|---|" + "---|" * len(EVAL_COLUMNS)]
        for backend, data in report.items():
            summary = data["summary"]
            lines.append(f"| {BACKEND_NAMES.get(backend, backend)} | " + " | ".join(
                _cell(summary.get(field)) for _, field in EVAL_COLUMNS) + " |")
        parts.append("\n".join(lines))
    return parts


def realq_table(out: Path, split: str) -> str | None:
    corpora = Path(os.environ.get("RAG_REALQ_CORPORA", "/work/realq/corpora"))
    if not all((corpora / p.stem).is_dir()
               for p in (ROOT / "evals" / "realq" / split).glob("*.jsonl")):
        return None
    target = out / f"realq-{split}.json"
    run([sys.executable, "benchmarks/realq.py", "--split", split, "--json", str(target)])
    rows = json.loads(target.read_text())["rows"]
    head = ["project", "items", "retr@8", "hit", "prec", "refusal", "over-ref"]
    title = {"dev": "dev projects", "test": "test projects, blind (aggregates only; every "
             "read is counted in evals/realq/README.md)"}[split]
    lines = [f"### Real users' questions, {title} (`evals/realq/{split}`)", "",
             f"`python benchmarks/realq.py --split {split}` (extractive backend)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(r.get(h)) for h in head) + " |" for r in rows]
    return "\n".join(lines)


def verifier_block() -> str:
    text = run([sys.executable, "benchmarks/verifier.py"])
    return "\n".join(["### The checker against people's labels", "",
                      "`python benchmarks/verifier.py`", "", "```text", text.strip(), "```"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-realq", action="store_true")
    parser.add_argument("--verifier", action="store_true")
    parser.add_argument("--realq-test", action="store_true",
                        help="also read the blind real-question test set (count the read)")
    args = parser.parse_args()
    out = ROOT / "evals" / "reports"
    commit = run(["git", "rev-parse", "--short", "HEAD"]).strip()
    parts = [
        "# Results",
        f"Generated by `python scripts/results.py` on {time.strftime('%Y-%m-%d')} at "
        f"commit {commit}; do not edit by hand. Metrics are defined in evals/README.md: "
        "*hit*, answers citing a line that states the answer; *precision*, cited lines "
        "that do; *refusal*, unanswerable questions refused; *over-refusal*, answerable "
        "ones refused; *retrieval@8*, a gold line among the 8 passages retrieved. Seconds "
        "are the model's own on the machine that recorded it (2 CPU cores).",
        *eval_tables(out),
    ]
    for split in ("dev", "test") if args.realq_test else ("dev",):
        if not args.skip_realq and (table := realq_table(out, split)) is not None:
            parts.append(table)
    if args.verifier:
        parts.append(verifier_block())
    target = ROOT / "docs" / "results.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
