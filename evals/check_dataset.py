"""Validate an evaluation dataset in the rag JSONL format.

Each line of the file must be a JSON object with exactly these keys:

    id, question, answerable, category, answer, gold, facts, notes

The checker verifies:

* keys and value types, unique ids, allowed categories;
* every gold citation names a file that exists in the corpus (default: the seeds
  folder next to ``evals/``; ``--corpus DIR`` for another, whose files are named by
  their path relative to DIR, e.g. ``advanced/clients.md``), its line range is
  1-based, inclusive, inside the file (lines split on ``\n`` only, as rag splits
  them), and covers no blank line;
* answerable items have non-empty ``gold`` and ``facts``; unanswerable items
  have both empty;
* every fact alternatives list has at least one alternative that occurs
  (case-insensitive) in the text of at least one gold line or in the
  reference ``answer``.

It prints every problem found and a summary of item counts per category, and
exits with status 1 if there was any problem (2 on bad usage).

Usage:
    python evals/check_dataset.py evals/dataset.jsonl
    python evals/check_dataset.py --corpus ../shared/bench/httpx-docs/docs evals/httpx/dev.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

REQUIRED_KEYS = {
    "id",
    "question",
    "answerable",
    "category",
    "answer",
    "gold",
    "facts",
    "notes",
}

CATEGORIES = (
    "single_fact",
    "multi_file",
    "numbers",
    "conflicting",
    "paraphrase",
    "unanswerable",
    "adversarial",
    "code",  # the answer is in a fenced code block or in inline code
)

CITATION_KEYS = {"source", "start_line", "end_line"}


def load_source_lines(seeds_dir: Path) -> dict[str, list[str]]:
    """Return a mapping from file name to its lines for every seed file."""
    sources: dict[str, list[str]] = {}
    if not seeds_dir.is_dir():
        return sources
    for path in sorted(seeds_dir.iterdir()):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            sources[path.name] = text.splitlines()
    return sources


def load_corpus_lines(root: Path) -> dict[str, list[str]]:
    """Every .txt/.md file under ``root`` (hidden ones aside) by its posix path relative
    to ``root``, split into lines on ``\n`` only, as rag numbers them."""
    sources: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (path.is_file() and path.suffix.lower() in (".txt", ".md")
                and not any(part.startswith(".") for part in relative.parts)):
            text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            sources[relative.as_posix()] = lines
    return sources


def is_int(value: object) -> bool:
    """True for real integers (bool is excluded)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_citation(
    cite: object, where: str, sources: dict[str, list[str]], problems: list[str]
) -> str | None:
    """Validate one citation; return the cited text, or None if invalid."""
    if not isinstance(cite, dict):
        problems.append(f"{where}: citation is not an object")
        return None
    if set(cite) != CITATION_KEYS:
        problems.append(
            f"{where}: citation keys {sorted(cite)} != {sorted(CITATION_KEYS)}"
        )
        return None
    source, start, end = cite["source"], cite["start_line"], cite["end_line"]
    if not isinstance(source, str) or source not in sources:
        problems.append(f"{where}: unknown source {source!r}")
        return None
    if not (is_int(start) and is_int(end)):
        problems.append(f"{where}: start_line/end_line must be integers")
        return None
    lines = sources[source]
    if not 1 <= start <= end <= len(lines):
        problems.append(
            f"{where}: lines {start}-{end} outside {source} (1-{len(lines)})"
        )
        return None
    text = lines[start - 1 : end]
    for offset, line in enumerate(text):
        if not line.strip():
            problems.append(f"{where}: {source} line {start + offset} is blank")
            return None
    return "\n".join(text)


def check_item(
    item: object, where: str, sources: dict[str, list[str]], problems: list[str]
) -> None:
    """Validate one dataset item, appending problems to ``problems``."""
    if not isinstance(item, dict):
        problems.append(f"{where}: not a JSON object")
        return
    keys = set(item)
    if keys != REQUIRED_KEYS:
        missing = sorted(REQUIRED_KEYS - keys)
        extra = sorted(keys - REQUIRED_KEYS)
        problems.append(f"{where}: missing keys {missing}, extra keys {extra}")
        return

    for key in ("id", "question", "answer", "notes"):
        if not isinstance(item[key], str):
            problems.append(f"{where}: {key} must be a string")
    for key in ("id", "question", "answer"):
        if isinstance(item[key], str) and not item[key].strip():
            problems.append(f"{where}: {key} is empty")
    if not isinstance(item["answerable"], bool):
        problems.append(f"{where}: answerable must be true or false")
    if item["category"] not in CATEGORIES:
        problems.append(f"{where}: bad category {item['category']!r}")
    if not isinstance(item["gold"], list):
        problems.append(f"{where}: gold must be a list")
        return
    if not isinstance(item["facts"], list):
        problems.append(f"{where}: facts must be a list")
        return

    gold, facts = item["gold"], item["facts"]
    if item["answerable"] is True:
        if not gold:
            problems.append(f"{where}: answerable item has empty gold")
        if not facts:
            problems.append(f"{where}: answerable item has empty facts")
        if item["category"] == "unanswerable":
            problems.append(f"{where}: category unanswerable but answerable is true")
    elif item["answerable"] is False:
        if gold:
            problems.append(f"{where}: unanswerable item has gold")
        if facts:
            problems.append(f"{where}: unanswerable item has facts")

    gold_texts: list[str] = []
    for g_index, group in enumerate(gold):
        g_where = f"{where} gold[{g_index}]"
        if not isinstance(group, dict) or set(group) != {"fact", "any_of"}:
            problems.append(f"{g_where}: must be an object with keys fact, any_of")
            continue
        if not isinstance(group["fact"], str) or not group["fact"].strip():
            problems.append(f"{g_where}: fact must be a non-empty string")
        any_of = group["any_of"]
        if not isinstance(any_of, list) or not any_of:
            problems.append(f"{g_where}: any_of must be a non-empty list")
            continue
        seen = set()
        for c_index, cite in enumerate(any_of):
            text = check_citation(cite, f"{g_where}.any_of[{c_index}]", sources, problems)
            if text is not None:
                gold_texts.append(text)
                ref = (cite["source"], cite["start_line"], cite["end_line"])
                if ref in seen:
                    problems.append(f"{g_where}: duplicate citation {ref}")
                seen.add(ref)

    answer = item["answer"] if isinstance(item["answer"], str) else ""
    haystack = "\n".join([*gold_texts, answer]).lower()
    for f_index, alternatives in enumerate(facts):
        f_where = f"{where} facts[{f_index}]"
        if (
            not isinstance(alternatives, list)
            or not alternatives
            or not all(isinstance(a, str) and a.strip() for a in alternatives)
        ):
            problems.append(f"{f_where}: must be a non-empty list of non-empty strings")
            continue
        if not any(a.lower() in haystack for a in alternatives):
            problems.append(
                f"{f_where}: none of {alternatives} appears in the gold lines or answer"
            )


def check_file(
    path: Path, sources: dict[str, list[str]]
) -> tuple[list[str], Counter, Counter]:
    """Check every line of ``path``.

    Returns (problems, counts per category, counts per answerable flag).
    """
    problems: list[str] = []
    counts: Counter = Counter()
    answerable = Counter()
    ids: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line_no, raw in enumerate(handle, start=1):
            where = f"line {line_no}"
            if not raw.strip():
                problems.append(f"{where}: blank line")
                continue
            try:
                item = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: invalid JSON ({exc})")
                continue
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                where = f"{where} ({item['id']})"
                if item["id"] in ids:
                    problems.append(f"{where}: duplicate id")
                ids.add(item["id"])
            check_item(item, where, sources, problems)
            if isinstance(item, dict):
                counts[item.get("category")] += 1
                answerable[item.get("answerable") is True] += 1
    return problems, counts, answerable


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    corpus: Path | None = None
    if len(args) == 3 and args[0] == "--corpus":
        corpus = Path(args[1])
        args = args[2:]
    if len(args) != 1:
        print("usage: check_dataset.py [--corpus DIR] DATASET.jsonl", file=sys.stderr)
        return 2
    path = Path(args[0])
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return 2
    sources = load_corpus_lines(corpus) if corpus else load_source_lines(SEEDS_DIR)
    if not sources:
        print(f"error: no text files found in {corpus or SEEDS_DIR}", file=sys.stderr)
        return 2

    problems, counts, answerable = check_file(path, sources)
    for problem in problems:
        print(f"PROBLEM {problem}")

    total = sum(counts.values())
    print(f"{path}: {total} items")
    for category in CATEGORIES:
        print(f"  {category:<13} {counts.get(category, 0)}")
    for category, count in sorted(
        (str(c), n) for c, n in counts.items() if c not in CATEGORIES
    ):
        print(f"  {category:<13} {count} (unknown category)")
    print(f"  answerable: {answerable[True]}, not answerable: {answerable[False]}")
    if problems:
        print(f"FAILED: {len(problems)} problem(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
