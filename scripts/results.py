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

from rag.evaluation.dataset import laid_out_corpora

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


# Sets laid out like evals/realq (their files outside the repository): name, title.
PROJECT_SETS = (("realq", "Real users' questions"),
                ("rst", "Sphinx reStructuredText docs, written in users' style"),
                ("pdf", "PDF manuals, written in users' style"),
                ("html", "HTML documentation pages, written in users' style"))


def realq_table(out: Path, split: str, name: str = "realq",
                what: str = "Real users' questions") -> str | None:
    corpora = laid_out_corpora(name)
    if not all((corpora / p.stem).is_dir()
               for p in (ROOT / "evals" / name / split).glob("*.jsonl")):
        return None
    target = out / f"{name}-{split}.json"
    run([sys.executable, "benchmarks/realq.py", "--set", f"evals/{name}", "--split", split,
         "--json", str(target)])
    rows = json.loads(target.read_text())["rows"]
    head = ["project", "items", "retr@8", "hit", "prec", "refusal", "over-ref"]
    title = {"dev": "dev projects", "test": "test projects, blind (aggregates only; every "
             f"read is counted in evals/{name}/README.md)"}[split]
    shown = "" if name == "realq" else f" --set evals/{name}"
    lines = [f"### {what}, {title} (`evals/{name}/{split}`)", "",
             f"`python benchmarks/realq.py{shown} --split {split}` (extractive backend)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(r.get(h)) for h in head) + " |" for r in rows]
    return "\n".join(lines)


def capable_tables(out: Path) -> list[str]:
    """The capable writer's recorded answers (evals/capable), replayed through the
    verified path."""
    rag = str(Path(sys.executable).with_name("rag"))
    parts = []
    uvicorn = laid_out_corpora("realq") / "uvicorn"
    for title, path, corpus, limit in (
            ("news", "evals/dataset.jsonl", None, 40),
            ("httpx docs", "evals/httpx/docs-dev.jsonl", HTTPX_DOCS, None),
            ("uvicorn docs, real users' questions", "evals/realq/dev/uvicorn.jsonl", uvicorn,
             None)):
        if corpus is not None and not corpus.is_dir():
            continue  # a real-question corpus not laid out here
        command = [rag, "eval", "--backend", "openai", "--set", path, "--cassettes",
                   "evals/capable/cassettes", "--out", str(out / "capable")]
        command += ["--corpus", str(corpus)] if corpus is not None else []
        command += ["--limit", str(limit)] if limit else []
        run(command)
        summary = json.loads((out / "capable" / f"{Path(path).stem}.json").read_text()
                             )["openai"]["summary"]
        shown = " ".join(command[1:]).replace(str(out / "capable"), "DIR").replace(
            str(HTTPX_DOCS), os.path.relpath(HTTPX_DOCS, ROOT)).replace(
            str(uvicorn), "$RAG_REALQ_CORPORA/uvicorn")
        parts.append("\n".join([
            f"### A capable writer through the checks, {title} ({summary['items']} "
            "questions; evals/capable/README.md)", "", f"`rag {shown}`", "",
            "| " + " | ".join(h for h, _ in EVAL_COLUMNS[:-1]) + " |",
            "|" + "---|" * (len(EVAL_COLUMNS) - 1),
            "| " + " | ".join(_cell(summary.get(f)) for _, f in EVAL_COLUMNS[:-1]) + " |"]))
    return parts


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
    for name, what in PROJECT_SETS[1:]:  # their blind test sets are read by hand
        if not args.skip_realq and (table := realq_table(out, "dev", name, what)):
            parts.append(table)
    parts += capable_tables(out)
    if args.verifier:
        parts.append(verifier_block())
    target = ROOT / "docs" / "results.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
