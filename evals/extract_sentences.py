"""Collect the sentences a real model wrote, from recorded cassettes, for labelling.

    python evals/extract_sentences.py evals/cassettes/openai-dataset.yaml [...] \
        [--report evals/reports/dataset.json] --out evals/verifier_real.jsonl
    python evals/extract_sentences.py evals/cassettes/openai-docs-dev.yaml \
        --corpus ../shared/bench/httpx-docs/docs --out evals/httpx/verifier_docs.jsonl

Every chat completion in the cassettes (first answers and repair rounds) is read as rag
reads it (a structured answer, or text with [S1] markers); each sentence is written with
its question, the lines its ids pointed to in that request's context (file and line
number), and empty labels. With ``--report`` (what ``rag eval`` wrote), the
sentences each LLM backend returned are added too (after the checks, with the lines
they finally cite; the baseline's cite whole passages). Rows already in ``--out`` keep
their labels; new ones are appended, so the file can be extended as more is recorded.
A row's id is ``rag.evaluation.labels.sentence_id`` of its question, sentence and lines,
which is how ``rag eval`` finds the label of a sentence an answer returns. Labels are
given by reading the cited lines, never by running the checker:

* ``supported``: the cited lines state everything the sentence says (its figures with
  their subjects), true or false;
* ``answers``: the sentence answers the question asked (the asked kind of fact, for the
  asked subject), true or false.

The context's lines are found in the corpus by their exact text (the prompt shows ids and
file names, not line numbers; a text a file holds twice is placed at its first line); a
sentence citing a line found on no line is left out and counted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer.llm.checking import read_completion  # noqa: E402  (how rag reads completions)
from rag.evaluation.backends import _QUESTION_LINE  # noqa: E402
from rag.evaluation.labels import sentence_id  # noqa: E402
from rag.verify import split_cited  # noqa: E402

_CONTEXT_LINE = re.compile(r"^\[(S\d+)\] \(([^)]*)\) (.*)$", re.M)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cassettes", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "verifier_real.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--report", type=Path, help="a rag eval JSON report")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.out.read_text("utf-8").splitlines()
            if line.strip()] if args.out.exists() else []
    known = {row["id"] for row in rows}
    # Named as the prompts name them: by their path under the corpus (``advanced/ssl.md``).
    files = {p.relative_to(args.corpus).as_posix(): p.read_text("utf-8").split("\n")
             for p in args.corpus.rglob("*") if p.is_file() and p.suffix in (".txt", ".md")}
    added = unplaced = 0
    for cassette in args.cassettes:
        data = yaml.safe_load(cassette.read_text("utf-8"))
        for interaction in data["interactions"]:
            for row in _rows(interaction, cassette.name, files):
                if row is None:
                    unplaced += 1
                elif row["id"] not in known:
                    known.add(row["id"])
                    rows.append(row)
                    added += 1
    if args.report:
        report = json.loads(args.report.read_text("utf-8"))
        for backend, run in report.items():
            if backend == "extractive":
                continue
            for item in run["items"]:
                for row in _returned(item["answer"], f"report:{backend}"):
                    if row["id"] not in known:
                        known.add(row["id"])
                        rows.append(row)
                        added += 1
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    print(f"{len(rows)} sentences ({added} new); {unplaced} left out (a cited line not found "
          "once in the corpus)")
    return 0


def _rows(interaction: dict, origin: str, files: dict[str, list[str]]) -> list[dict | None]:
    request = json.loads(interaction["request"]["body"])
    messages = request["messages"]
    prompt = "\n".join(str(m.get("content", "")) for m in messages)
    questions = _QUESTION_LINE.findall(prompt)
    if not questions or request.get("stream"):
        return []
    question = questions[-1].strip()
    context = {sid: (source, text) for sid, source, text in _CONTEXT_LINE.findall(
        messages[1]["content"])}
    body = interaction["response"]["body"]["string"]
    response = json.loads(body.decode() if isinstance(body, bytes) else body)
    raw = response["choices"][0]["message"]["content"] or ""
    turn = "repair" if len(messages) > 2 else "answer"
    placed = {sid: _place(source, text, files) for sid, (source, text) in context.items()}
    out: list[dict | None] = []
    for sentence, ids in read_completion(raw)[1]:
        cited = [sid for sid in dict.fromkeys(i.upper() for i in ids) if sid in context]
        if any(placed[sid] is None for sid in cited):
            out.append(None)
            continue
        cites = [placed[sid] for sid in cited]
        out.append({
            "id": sentence_id(question, sentence, [(c["source"], c["line"]) for c in cites]),
            "question": question, "sentence": sentence, "cites": cites,
            "origin": f"{origin}:{turn}", "supported": None, "answers": None, "note": "",
        })
    return out


def _returned(answer: dict, origin: str) -> list[dict]:
    """The sentences of a returned Answer, each with every line its citations cover."""
    out = []
    for sentence, numbers in split_cited(answer["text"]):
        citations = [answer["citations"][n - 1] for n in numbers
                     if 0 < n <= len(answer["citations"])]
        cites = [{"source": c["source"], "line": n} for c in citations
                 for n in range(c["start_line"], c["end_line"] + 1)]
        if not cites:
            continue
        out.append({
            "id": sentence_id(answer["question"], sentence,
                              [(c["source"], c["line"]) for c in cites]),
            "question": answer["question"], "sentence": sentence, "cites": cites,
            "origin": origin, "supported": None, "answers": None, "note": "",
        })
    return out


def _place(source: str, text: str, files: dict[str, list[str]]) -> dict | None:
    """The line of ``source`` whose text is ``text`` (ids never name a line number); the
    first, when the file says it more than once (a code line repeated in two examples:
    what it states is the same)."""
    numbers = [n for n, line in enumerate(files.get(source, []), 1) if line.strip() == text]
    return {"source": source, "line": numbers[0]} if numbers else None


if __name__ == "__main__":
    sys.exit(main())
