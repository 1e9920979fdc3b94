"""Real-question sets (evals/realq/): per project, how the default backend does.

    python benchmarks/realq.py --split dev [--project typer] [--backend extractive]
    python benchmarks/realq.py --split test          # blind: read once per configuration
    python benchmarks/realq.py --set evals/rst --split dev   # Sphinx .rst docs (flask)

For each project of the split: its Markdown docs (exported from the commit in
``evals/realq/projects/<slug>.json`` to ``$RAG_REALQ_CORPORA/<slug>``, see
evals/realq/README.md) are indexed in a folder of their own under ``--index-root``, and
every question is answered. One row a project, then the whole split:

- ``retr@8``: answerable questions with a gold line among the retriever's top 8 passages;
- ``hit``, ``prec``: answers citing a gold line; cited lines that are gold;
- ``refusal``: unanswerable questions refused; ``over-ref``: answerable ones refused.

Prints aggregates only (a test set stays blind), and with ``--json FILE`` writes them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REALQ = ROOT / "evals" / "realq"
sys.path.insert(0, str(ROOT))

from rag.api import engine_for  # noqa: E402
from rag.embeddings import MiniLMEmbedder  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.evaluation.backends import extractive_answerer  # noqa: E402
from rag.evaluation.dataset import laid_out_corpora, load_items  # noqa: E402
from rag.evaluation.runner import run_backend  # noqa: E402
from rag.settings import Settings  # noqa: E402

FIELDS = (("retr@8", "retrieval_recall"), ("hit", "citation_hit"),
          ("prec", "citation_precision"), ("refusal", "refusal_recall"),
          ("over-ref", "over_refusal"))


def project_row(slug: str, split: str, corpora: Path, index_root: Path,
                top_k: int, embedder: Path | None = None,
                sets: Path = REALQ) -> dict[str, object]:
    items = load_items(sets / split / f"{slug}.jsonl")
    settings = Settings.from_env(corpus=corpora / slug, index_dir=index_root / slug)
    # Another embedder's index must not be mixed with the shipped one's: its own folder.
    engine = (engine_for(settings) if embedder is None else
              Engine(settings, MiniLMEmbedder(model_path=embedder)))
    began = time.monotonic()
    engine.build()
    built = time.monotonic() - began
    began = time.monotonic()
    run = run_backend("extractive", engine, items, extractive_answerer(engine, top_k), top_k)
    row: dict[str, object] = {"project": slug, "items": len(items),
                              "answerable": sum(i.answerable for i in items),
                              "build_s": round(built, 1),
                              "s_per_q": round((time.monotonic() - began) / len(items), 2)}
    for label, field in FIELDS:
        value = getattr(run.summary, field)
        row[label] = None if value is None else round(value, 3)
    return row


def overall(rows: list[dict[str, object]]) -> dict[str, object]:
    """Each metric averaged over the projects (every project weighs the same)."""
    total: dict[str, object] = {"project": "all (mean of projects)",
                                "items": sum(int(r["items"]) for r in rows)}  # type: ignore[call-overload]
    for label, _ in FIELDS:
        values = [float(r[label]) for r in rows if r[label] is not None]  # type: ignore[arg-type]
        total[label] = round(sum(values) / len(values), 3) if values else None
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("train", "dev", "test"), required=True)
    parser.add_argument("--project", action="append", help="only these projects")
    parser.add_argument("--set", type=Path, default=REALQ,
                        help="a set folder laid out as evals/realq is (evals/rst)")
    parser.add_argument("--corpora", type=Path,
                        help="default $RAG_<SET>_CORPORA, else /work/<set>/corpora")
    parser.add_argument("--index-root", type=Path, default=Path("/tmp/rag-realq-index"))
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--embedder", type=Path,
                        help="an ONNX embedder to try instead of the shipped one (use its "
                             "own --index-root)")
    args = parser.parse_args()
    sets = args.set.resolve()
    name = sets.name
    corpora = args.corpora or laid_out_corpora(name)
    slugs = args.project or sorted(p.stem for p in (sets / args.split).glob("*.jsonl"))
    rows = []
    for slug in slugs:
        rows.append(project_row(slug, args.split, corpora, args.index_root, args.top_k,
                                args.embedder, sets))
        print(json.dumps(rows[-1]), flush=True)
    rows.append(overall(rows))
    head = ["project", "items", *(label for label, _ in FIELDS)]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join("-" if row.get(h) is None else str(row.get(h)) for h in head)
              + " |")
    if args.json:
        args.json.write_text(json.dumps({"split": args.split, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
