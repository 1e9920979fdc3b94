"""``rag eval``: every backend that can run, side by side, reports written, gate checked."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from rag.answer.llm_options import OpenAIOptions
from rag.answer.registry import backend_names, described_backends
from rag.api import engine_for
from rag.errors import ConfigError
from rag.evaluation.backends import (
    Replayed,
    backend_answerer,
    baseline_answerer,
    extractive_answerer,
    openai_answerer,
)
from rag.evaluation.cassettes import endpoint_provenance
from rag.evaluation.dataset import load_items
from rag.evaluation.labels import load_labels
from rag.evaluation.runner import BACKENDS, Run, check_gate, run_backend, table, write_reports
from rag.local.options import LocalOptions
from rag.settings import Settings

__all__ = ["add_eval_command", "run_eval"]

ROOT = Path(__file__).resolve().parent.parent.parent
EVALS = ROOT / "evals"
RECORDED_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"  # rag.local.model.MODEL_ALIAS
RECORDED_URL = "http://127.0.0.1:8765/v1"


def add_eval_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "eval", help="score the backends on a hand-written eval set",
        epilog=f"{described_backends()}\nrag eval reads the options from their variables.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=EVALS / "dataset.jsonl", metavar="FILE",
                        help="eval questions (default: evals/dataset.jsonl)")
    parser.add_argument("--corpus", type=Path, metavar="DIR",
                        help="the corpus the set is about (default: seeds)")
    parser.add_argument("--backend", action="append", metavar="NAME",
                        help="backend to run, repeatable: " + ", ".join(_choices())
                        + f" (default: {', '.join(BACKENDS)}, those that can run)")
    parser.add_argument("--record", action="store_true",
                        help="record what openai/baseline lack against OPENAI_BASE_URL")
    parser.add_argument("--local", action="store_true",
                        help="with --record: record against the local model, started here")
    parser.add_argument("--cassettes", type=Path, default=EVALS / "cassettes", metavar="DIR",
                        help="where the recordings are (default: evals/cassettes; the "
                             "capable-writer recordings live in evals/capable/cassettes)")
    parser.add_argument("--gate", action="store_true",
                        help="exit 1 when a metric is below evals/thresholds.json")
    parser.add_argument("--out", type=Path, default=EVALS / "reports", metavar="DIR",
                        help="where the JSON and Markdown reports go")
    parser.add_argument("--top-k", type=int, default=8, metavar="N")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="openai/baseline: only the first N questions (to record in parts)")
    parser.set_defaults(command=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    if unknown := [b for b in args.backend or [] if b not in _choices()]:
        raise ConfigError(f"unknown backend {', '.join(unknown)}; choose from: "
                          f"{', '.join(_choices())}")
    items = load_items(args.set)
    settings = Settings.from_env(corpus=args.corpus or ROOT / "seeds")
    engine = engine_for(settings)
    engine.build()
    cassettes = args.cassettes
    llm_settings = settings.with_options(
        model=None if args.record else RECORDED_MODEL,
        base_url=None if args.record else RECORDED_URL,
    )
    provenance = None
    if args.record:
        llm_settings = _recording_settings(llm_settings, args.local or "local" in
                                           (args.backend or []))
        endpoint = OpenAIOptions.of(llm_settings)
        assert endpoint.base_url is not None or endpoint.api_key
        provenance = endpoint_provenance(
            endpoint.base_url or "https://api.openai.com/v1", endpoint.model,
            LocalOptions.of(llm_settings).model_dir,
        )
    runs: list[Run] = []
    # People's labels of real model sentences, about seeds/ and about the httpx docs; a
    # row's id is its question, sentence and cited lines, so the two never collide.
    labels = {**load_labels(EVALS / "verifier_real.jsonl"),
              **load_labels(EVALS / "httpx" / "verifier_docs.jsonl")}
    for backend in args.backend or list(BACKENDS):
        if backend == "extractive":
            runs.append(run_backend(backend, engine, items,
                                    extractive_answerer(engine, args.top_k), args.top_k,
                                    progress=_progress(backend)))
            continue
        # The local model's recordings are the openai row's: the local backend is the
        # openai path against the local server, and the recordings are that model's.
        cassette = f"{'openai' if backend == 'local' else backend}-{args.set.stem}.yaml"
        plugin = backend not in ("openai", "local", "baseline")
        recorded = args.record or (cassettes / cassette).exists()
        if plugin and not recorded:
            runs.append(run_backend(backend, engine, items[: args.limit],
                                    backend_answerer(engine, backend, args.top_k),
                                    args.top_k, labels=labels, progress=_progress(backend)))
            runs[-1].note = ", ".join(filter(None, ["live", runs[-1].note]))
            continue
        if not recorded:
            print(f"rag: {backend}: no recording {cassette}; run with --record", flush=True)
            continue
        if plugin:
            answerer = backend_answerer(engine, backend, args.top_k)
        elif backend == "baseline":
            answerer = baseline_answerer(engine, llm_settings, args.top_k)
        else:
            answerer = openai_answerer(engine, llm_settings, args.top_k)
        replayed = Replayed(answerer, cassettes, cassette, args.record, provenance)
        run = run_backend(backend, engine, items[: args.limit], replayed, args.top_k,
                          replayed.seconds, labels, progress=_progress(backend))
        run.note = ", ".join(filter(None, ["recorded", run.note]))
        runs.append(run)
    print(table(runs))
    json_path, md_path = write_reports(runs, args.out, args.set.stem)
    print(f"reports: {json_path}, {md_path}")
    if args.gate:
        thresholds = json.loads((EVALS / "thresholds.json").read_text(encoding="utf-8"))
        failures = check_gate(runs, thresholds.get(args.set.stem, {}))
        if not thresholds.get(args.set.stem):
            raise ConfigError(f"evals/thresholds.json has no thresholds for {args.set.stem}")
        for failure in failures:
            print(f"gate: {failure}")
        if failures:
            return 1
        print("gate: every metric at or above its threshold")
    return 0


def _choices() -> list[str]:
    """What ``--backend`` takes: every registered backend and the baseline."""
    return [*backend_names(), "baseline"]


def _recording_settings(settings: Settings, local: bool) -> Settings:
    """The endpoint to record against: the local model, started here for the run, or
    the one the environment names."""
    if not local:
        endpoint = OpenAIOptions.of(settings)
        if not (endpoint.base_url or endpoint.api_key):
            raise ConfigError("--record needs OPENAI_BASE_URL (or OPENAI_API_KEY), or --local")
        return settings
    from rag.local.server import served_settings

    return served_settings(settings)


def _progress(backend: str) -> Callable[[int, int], None]:
    """``rag eval: <backend> n/total questions`` on stderr: over itself on a terminal,
    every tenth of the set in a log."""

    def show(done: int, total: int) -> None:
        text = f"rag eval: {backend} {done}/{total} questions"
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{text}\x1b[K" + ("\n" if done >= total else ""))
        elif total and (done == 0 or done >= total or done * 10 // total
                        > (done - 1) * 10 // total):
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    return show
