"""Cut the real-question corpora into the records rag indexes, and pair questions with them.

    python scripts/retrieval/make_units.py OUT [--corpora DIR] [--splits train dev]

Runs in rag's own environment (it uses rag's reader and cutting, so the records are what
an index of the corpus holds). For each project of each split, writes
``OUT/<split>/<slug>.jsonl.gz``: one line per record of each level (``{"level", "source",
"start", "end", "text"}``, the text as it is embedded: a Markdown record after its heading
path), and ``OUT/<split>/<slug>.questions.jsonl``: each answerable question with the gold
lines, the records holding one (``pos``) and the 30 records rag's BM25 ranks highest
that hold none (``hard``), by index into the sentence level. Unanswerable questions are
written with empty ``pos`` (their ``hard`` records are near misses).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rag.chunking import DEFAULT_CHUNK_TOKENS, line_windows, sentence_units  # noqa: E402
from rag.corpus import load_corpus  # noqa: E402
from rag.evaluation.dataset import laid_out_corpora, load_items  # noqa: E402
from rag.formats import searchable  # noqa: E402

HARD = 30


def cut(corpus: Path) -> dict[str, list[dict[str, object]]]:
    levels: dict[str, list[dict[str, object]]] = {"sentences": [], "chunks": []}
    for doc in load_corpus(corpus).documents:
        for level, pieces in (("sentences", sentence_units(doc)),
                              ("chunks", line_windows(doc, DEFAULT_CHUNK_TOKENS))):
            for piece in pieces:
                levels[level].append({
                    "level": level, "source": piece.source, "start": piece.start_line,
                    "end": piece.end_line,
                    "text": searchable(piece.source, piece.text, piece.context)})
    return levels


def main() -> int:
    import bm25s
    import Stemmer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--corpora", type=Path, default=laid_out_corpora("realq"))
    parser.add_argument("--splits", nargs="+", default=["train", "dev"])
    args = parser.parse_args()
    stemmer = Stemmer.Stemmer("english")
    for split in args.splits:
        (args.out / split).mkdir(parents=True, exist_ok=True)
        for path in sorted((ROOT / "evals" / "realq" / split).glob("*.jsonl")):
            slug = path.stem
            levels = cut(args.corpora / slug)
            with gzip.open(args.out / split / f"{slug}.jsonl.gz", "wt", encoding="utf-8") as f:
                for records in levels.values():
                    for record in records:
                        f.write(json.dumps(record) + "\n")
            sentences = levels["sentences"]
            retriever = bm25s.BM25()
            retriever.index(bm25s.tokenize([str(r["text"]) for r in sentences],
                                           stopwords="en", stemmer=stemmer, show_progress=False),
                            show_progress=False)
            rows = []
            for item in load_items(path):
                gold = item.relevant_lines()
                holds = [i for i, r in enumerate(sentences) if any(
                    (r["source"], n) in gold for n in range(int(r["start"]), int(r["end"]) + 1))]
                query = bm25s.tokenize([item.question], stopwords="en", stemmer=stemmer,
                                       show_progress=False)
                k = min(len(sentences), HARD + len(holds) + 5)
                ranked, _ = retriever.retrieve(query, k=k, show_progress=False)
                hard = [int(i) for i in ranked[0] if int(i) not in set(holds)][:HARD]
                rows.append({"id": item.id, "question": item.question,
                             "answerable": item.answerable, "origin": item.origin,
                             "gold": sorted(gold), "pos": holds, "hard": hard})
            with open(args.out / split / f"{slug}.questions.jsonl", "w", encoding="utf-8") as f:
                for row in rows:
                    f.write(json.dumps(row) + "\n")
            print(f"{split}/{slug}: {len(sentences)} sentences, {len(levels['chunks'])} chunks, "
                  f"{len(rows)} questions, {sum(bool(r['pos']) for r in rows)} with a positive",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
