"""Ask a question about the sample corpus in seeds/ and print the cited lines.

    python examples/ask_seeds.py "How many T-90 tanks did Egypt buy?"

The first run builds the index (in $RAG_INDEX_DIR, default .rag/); later runs reuse it.
"""

import sys
from pathlib import Path

import rag

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
DEFAULT_QUESTION = "How many T-90 tanks did Egypt buy?"


def main() -> None:
    question = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_QUESTION
    answer = rag.ask(question, corpus=SEEDS)
    print(answer.text)
    for n, citation in enumerate(answer.citations, 1):
        print(f"[{n}] {citation.source}:{citation.start_line}-{citation.end_line}")
        for line in citation.quote.split("\n"):
            print(f"    {line}")


if __name__ == "__main__":
    main()
