"""Check the real-question sets against their corpora, and print what they hold.

    python evals/realq/check.py                      # every set: counts and problems
    python evals/realq/check.py train/fastapi.jsonl  # one set
    python evals/realq/check.py --show ID ...        # an item's gold lines, as the file has them
    python evals/realq/check.py --set evals/rst      # another set folder laid out the same way

A set is one project's questions (``<split>/<slug>.jsonl``); its corpus is the project's
Markdown docs as exported from the commit in ``projects/<slug>.json``, found under
``--corpora`` (default ``$RAG_REALQ_CORPORA`` or ``/work/realq/corpora``; for another set
folder ``$RAG_<NAME>_CORPORA`` or ``/work/<name>/corpora``) as ``<slug>/``.
Lines are numbered as rag numbers them: split on "\\n" only, from 1. Needs no package
beyond the standard library, so it runs before rag is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from export import corpora_root  # beside this script: where each set's files are laid out

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "dev", "test")
KEYS = {"id", "question", "answerable", "category", "answer", "gold", "facts", "notes", "origin",
        "url"}
REQUIRED = {"id", "question", "answerable", "category", "answer", "gold", "facts", "origin"}
CATEGORIES = {"single_fact", "multi_file", "numbers", "conflicting", "paraphrase",
              "unanswerable", "adversarial", "code"}




def read_lines(root: Path, source: str, cache: dict[str, list[str] | None]) -> list[str] | None:
    if source not in cache:
        path = (root / source).resolve()
        ok = path.is_file() and root.resolve() in path.parents
        cache[source] = _document(path, source) if ok else None
    return cache[source]


def _document(path: Path, source: str) -> list[str]:
    """A file's lines as rag numbers them: a PDF's through rag's own extraction (the one
    place this script needs rag installed), any other file split on "\\n"."""
    if source.lower().endswith(".pdf"):
        sys.path.insert(0, str(HERE.parents[1]))
        from rag.pdf import pdf_lines

        return list(pdf_lines(path.read_bytes()))
    return path.read_bytes().decode("utf-8").split("\n")


def check_set(path: Path, corpora: Path, show: set[str],
              here: Path = HERE) -> tuple[list[str], Counter[str]]:
    """Problems of one set (empty when it is clean) and its counts."""
    slug = path.stem
    problems: list[str] = []
    counts: Counter[str] = Counter()
    meta_path = here / "projects" / f"{slug}.json"
    if not meta_path.is_file():
        problems.append(f"{path}: no projects/{slug}.json")
    root = corpora / slug
    if not root.is_dir():
        problems.append(f"{path}: no corpus at {root}")
        return problems, counts
    cache: dict[str, list[str] | None] = {}
    seen: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not raw.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc.msg})")
            continue
        missing, extra = REQUIRED - item.keys(), item.keys() - KEYS
        if missing or extra:
            problems.append(f"{where}: missing {sorted(missing)} extra {sorted(extra)}")
            continue
        ident = item["id"]
        if not str(ident).startswith(f"{slug}-") or ident in seen:
            problems.append(f"{where}: id {ident!r} must be unique and start with '{slug}-'")
        seen.add(ident)
        if item["origin"] not in ("thread", "written"):
            problems.append(f"{where}: origin must be 'thread' or 'written'")
        if item["origin"] == "thread" and not str(item.get("url", "")).startswith("https://"):
            problems.append(f"{where}: a thread question needs the thread's url")
        if item["category"] not in CATEGORIES:
            problems.append(f"{where}: unknown category {item['category']!r}")
        if item["answerable"] != bool(item["gold"]):
            problems.append(f"{where}: answerable items have gold lines, unanswerable ones none")
        if (item["category"] == "unanswerable") == item["answerable"]:
            problems.append(f"{where}: category 'unanswerable' exactly when answerable is false")
        if not isinstance(item["facts"], list) or not all(
                isinstance(f, list) and f and all(isinstance(x, str) and x for x in f)
                for f in item["facts"]):
            problems.append(f"{where}: facts is a list of non-empty lists of strings")
        for fact in item["gold"]:
            if set(fact) != {"fact", "any_of"} or not fact["any_of"]:
                problems.append(f"{where}: a gold fact is {{fact, any_of: [ranges]}}")
                continue
            for rng in fact["any_of"]:
                if set(rng) != {"source", "start_line", "end_line"}:
                    problems.append(f"{where}: a range is {{source, start_line, end_line}}")
                    continue
                lines = read_lines(root, rng["source"], cache)
                start, end = rng["start_line"], rng["end_line"]
                if lines is None:
                    problems.append(f"{where}: no file {rng['source']} in {root}")
                elif not (isinstance(start, int) and isinstance(end, int)
                          and 1 <= start <= end <= len(lines)):
                    problems.append(f"{where}: {rng['source']}:{start}-{end} is outside the file")
                elif not any(line.strip() for line in lines[start - 1:end]):
                    problems.append(f"{where}: {rng['source']}:{start}-{end} is blank")
                elif ident in show:
                    print(f"--- {ident} {rng['source']}:{start}-{end}")
                    print("\n".join(lines[start - 1:end]))
        counts["items"] += 1
        counts[item["origin"]] += 1
        counts["unanswerable"] += not item["answerable"]
    return problems, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--corpora")
    parser.add_argument("--set", type=Path, default=HERE, help="the set folder")
    parser.add_argument("--show", nargs="*", default=[])
    args = parser.parse_args(argv)
    here = args.set.resolve()
    sets = [p if p.is_absolute() or p.exists() else here / p for p in args.sets] or sorted(
        p for split in SPLITS for p in (here / split).glob("*.jsonl"))
    corpora = Path(args.corpora) if args.corpora else corpora_root(here)
    total: Counter[str] = Counter()
    bad = 0
    for path in sets:
        problems, counts = check_set(path, corpora, set(args.show), here)
        total.update(counts)
        bad += len(problems)
        share = counts["unanswerable"] / counts["items"] if counts["items"] else 0.0
        print(f"{path.parent.name}/{path.name}: {counts['items']} items, "
              f"{counts['thread']} from threads, {counts['written']} written, "
              f"{share:.0%} unanswerable, {len(problems)} problems")
        for problem in problems[:20]:
            print("  " + problem)
    print(f"all: {total['items']} items ({total['thread']} thread, {total['written']} written, "
          f"{total['unanswerable']} unanswerable), {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
