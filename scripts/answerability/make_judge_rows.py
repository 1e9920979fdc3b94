"""Training pairs for the answer judge: does a sentence written in reply to a question,
resting on the lines it cites, give the asker what they asked for?

    python scripts/answerability/make_judge_rows.py OUT --units UNITS --corpora DIR \
        [--written FILE ...] [--questions 1500] [--valid-projects a,b,...] [--sentence-only]

Writes ``train.jsonl`` and ``valid.jsonl`` in ``train.py``'s form (question, passage,
label, qid, kind, article), the passage being ``rag.answer.answerability.judge_passage``
of the sentence and its cited lines (after their heading path), as the checker hands it
to the judge. From the real-question sets' train projects only (never dev or test):

* from the units ``scripts/retrieval/make_units.py`` cut (``--units``): a gold sentence
  copied as the reply (positive); the set's reference answer citing the first gold
  sentence (positive: a capable writer's own words); the sentences BM25 ranks highest
  without holding a gold line, copied as replies (negative: what a weak model copies);
* ``--written`` (default ``evals/realq/judge/written.jsonl.gz``, whose README says how
  it was made): sentences written by helper sessions over the same projects' docs, each
  with its cited lines and its label read from them: paraphrased right answers, true side
  facts, near misses, partial answers, related lines offered for questions the docs do
  not answer (trained on ``--written-repeat`` times).

Projects named in ``--valid-projects`` go to ``valid.jsonl`` only. ``--sentence-only``:
the passage is the sentence alone (a judge of the question and the reply, not the lines).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from rag.answer.answerability import judge_passage
from rag.answer.llm.checking import cited_passage
from rag.formats import line_roles

ROOT = Path(__file__).resolve().parents[2]
POSITIVES = 2  # gold sentences copied, per question
HARD = 2  # BM25's best non-gold sentences, per answerable question
HARD_UNANSWERABLE = 3


class Corpus:
    """A project's files, read once, with each line's heading path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, tuple[list[str], list[tuple[str, ...]]]] = {}

    def file(self, source: str) -> tuple[list[str], list[tuple[str, ...]]]:
        if source not in self._files:
            lines = (self.root / source).read_text(encoding="utf-8").split("\n")
            roles = line_roles(lines, source)
            self._files[source] = (lines, [r.headings for r in roles])
        return self._files[source]

    def path(self, source: str, line: int) -> str:
        _, headings = self.file(source)
        return " > ".join(headings[line - 1]) if 0 < line <= len(headings) else ""

    def cited(self, source: str, line: int) -> str:
        """What the checker hands the judge for one cited line."""
        lines, headings = self.file(source)
        return cited_passage(source, lines[line - 1].strip(), headings[line - 1])


def unit_rows(units: Path, corpora: Path, questions: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    sets = sorted((units / "train").glob("*.questions.jsonl"))
    per_project = max(1, questions // max(1, len(sets)))
    for path in sets:
        slug = path.name.removesuffix(".questions.jsonl")
        corpus = Corpus(corpora / slug)
        with gzip.open(units / "train" / f"{slug}.jsonl.gz", "rt", encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        sentences = [r for r in records if r["level"] == "sentences"]
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        answers = _reference_answers(slug)
        for item in rng.sample(items, min(per_project, len(items))):
            base = {"question": item["question"], "qid": item["id"], "article": -1,
                    "project": slug}
            for index in item["pos"][:POSITIVES]:
                rows.append(base | _pair(corpus, sentences[index], None, 1, "gold_copied"))
            reference = answers.get(item["id"])
            if item["pos"] and reference:
                rows.append(base | _pair(corpus, sentences[item["pos"][0]], reference, 1,
                                         "reference_answer"))
            hard = HARD if item["answerable"] else HARD_UNANSWERABLE
            kind = "other_copied" if item["answerable"] else "unanswerable_copied"
            for index in item["hard"][:hard]:
                rows.append(base | _pair(corpus, sentences[index], None, 0, kind))
    return rows


def _pair(corpus: Corpus, unit: dict[str, Any], sentence: str | None, label: int,
          kind: str) -> dict[str, Any]:
    """A unit (a sentence record: its heading path, then its text) cited by ``sentence``,
    or by itself copied when ``sentence`` is None."""
    path = corpus.path(unit["source"], unit["start"])
    text = unit["text"]
    plain = text[len(path) + 2:] if path and text.startswith(f"{path}: ") else text
    return {"passage": judge_passage(sentence or plain, text), "label": label, "kind": kind}


def _reference_answers(slug: str) -> dict[str, str]:
    """The real-question set's reference answers of one train project, answerable only."""
    found = {}
    path = ROOT / "evals" / "realq" / "train" / f"{slug}.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["answerable"] and item.get("answer"):
            found[item["id"]] = item["answer"]
    return found


def written_rows(files: list[Path], corpora: Path) -> tuple[list[dict[str, Any]], int]:
    """Helper-written rows as pairs; rows whose cited lines are out of range or blank are
    left out (and counted)."""
    rows, bad = [], 0
    corpus: dict[str, Corpus] = {}
    for path in files:
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                project = row["project"]
                c = corpus.setdefault(project, Corpus(corpora / project))
                cited = []
                for place in row["cites"]:
                    lines, _ = c.file(place["source"])
                    n = int(place["line"])
                    if not 0 < n <= len(lines) or not lines[n - 1].strip():
                        raise ValueError("blank or out of range")
                    cited.append(c.cited(place["source"], n))
                if not cited or not isinstance(row["answers"], bool):
                    raise ValueError("no cites or no label")
            except (ValueError, KeyError, TypeError, OSError):
                bad += 1
                continue
            rows.append({"question": row["question"], "qid": row["qid"], "article": -1,
                         "project": project,
                         "passage": judge_passage(row["sentence"], " ".join(cited)),
                         "label": int(row["answers"]), "kind": f"written_{row['kind']}"})
    return rows, bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--units", type=Path, required=True)
    parser.add_argument("--corpora", type=Path, required=True)
    parser.add_argument("--written", type=Path, nargs="*",
                        default=[ROOT / "evals" / "realq" / "judge" / "written.jsonl.gz"])
    parser.add_argument("--questions", type=int, default=1500)
    parser.add_argument("--written-repeat", type=int, default=2,
                        help="times each helper-written row is trained on")
    parser.add_argument("--valid-projects", default="cattrs,kedro,polars")
    parser.add_argument("--sentence-only", action="store_true",
                        help="the passage is the sentence alone, without its cited lines")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    valid_projects = set(args.valid_projects.split(","))
    auto = unit_rows(args.units, args.corpora, args.questions, args.seed)
    written, bad = written_rows(args.written, args.corpora)
    train = [r for r in auto if r["project"] not in valid_projects]
    train += [r for r in written if r["project"] not in valid_projects] * args.written_repeat
    valid = [r for r in auto + written if r["project"] in valid_projects]
    if args.sentence_only:
        for row in train + valid:
            row["passage"] = row["passage"].split(" | ", 1)[0]
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", train), ("valid", valid)):
        with (args.out / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        kinds = Counter(f"{row['kind']}:{row['label']}" for row in rows)
        print(f"{name}: {len(rows)} pairs, {sum(r['label'] for r in rows)} positive; "
              f"{dict(kinds)}")
    print(f"written rows left out (cited lines blank or out of range): {bad}")


if __name__ == "__main__":
    main()
