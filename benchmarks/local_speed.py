"""Time to answer with the local model (``--backend local``) over seeds/, and where it goes.

    python benchmarks/local_speed.py [--questions 12] [--against DIR]

A worker process builds a fresh index of seeds/ in a temporary folder, starts the local
model's server as ``rag ask --backend local`` does (a child ``rag.local serve``), asks one
warm-up question, then the first ``--questions`` questions of evals/dev.jsonl, each
through ``Engine.ask`` (the verified path: a second, repair request when a sentence
fails). Every request to the server is timed with llama.cpp's own ``timings``: prompt
tokens evaluated and those reused from its prompt cache, prompt-eval seconds, tokens
generated, generation seconds; what is left of a question's time is rag's own work
(retrieval, checking).

``--against DIR`` runs a second worker on another checkout of rag (``git archive main |
tar -x -C DIR``), with its own server, and alternates the two question by question, so
that a busy machine slows both alike. The numbers go in the README; tests never assert
timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_TAG = "local_speed: "  # marks the worker's result lines among anything else on its stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=12, metavar="N")
    parser.add_argument("--against", type=Path, default=None, metavar="DIR",
                        help="another checkout of rag, asked the same questions in turn")
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _work(args.corpus)
        return
    sys.path.insert(0, str(ROOT))
    from rag.evaluation.dataset import load_items

    questions = [item.question for item in load_items(ROOT / "evals" / "dev.jsonl")]
    warm_up, asked = questions[-1], questions[: args.questions]
    sides = {"this": ROOT, **({"against": args.against.resolve()} if args.against else {})}
    workers = {name: _Worker(path, args.corpus) for name, path in sides.items()}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {len(asked)} questions of evals/dev.jsonl "
          f"over {args.corpus.name}/, after one warm-up")
    for name, worker in workers.items():
        print(f"{name} ({sides[name]}): index {worker.ready['index_s']:.0f} s, "
              f"server start {worker.ready['start_s']:.1f} s")
    for worker in workers.values():
        worker.ask(warm_up)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in workers}
    for number, question in enumerate(asked, 1):
        for name, worker in workers.items():
            result = worker.ask(question)
            results[name].append(result)
            print(f"  {number:2d} {name:7s} {_line(result)}", flush=True)
    for worker in workers.values():
        worker.close()
    print()
    _table(results)
    if len(results) == 2:
        this, other = results.values()
        same = sum(a["answer"] == b["answer"] for a, b in zip(this, other, strict=True))
        print(f"the same answer on both sides: {same} of {len(asked)} questions")


class _Worker:
    """``--worker`` on one checkout: questions in on stdin, results out on stdout."""

    def __init__(self, checkout: Path, corpus: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", "--corpus", str(corpus)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=checkout,
        )
        self.ready = self._result()

    def ask(self, question: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(question) + "\n")
        self.process.stdin.flush()
        return self._result()

    def _result(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(_TAG):
                result: dict[str, Any] = json.loads(line.removeprefix(_TAG))
                return result
        raise SystemExit(f"the worker stopped (exit status {self.process.wait()})")

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(60)


def _work(corpus: Path) -> None:
    """The worker: index, start the local backend, then answer each question read."""
    import httpx2 as httpx

    import rag.answer.llm.openai as openai_chat
    from rag.engine import Engine
    from rag.settings import Settings

    requests: list[dict[str, Any]] = []

    class Timed(httpx.BaseTransport):
        """Real HTTP, keeping each response's llama.cpp ``timings``."""

        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            began = time.perf_counter()
            response = self.inner.handle_request(request)
            body = response.read()
            timings = json.loads(body).get("timings", {}) if response.status_code == 200 else {}
            requests.append({"wall_s": time.perf_counter() - began, **timings})
            return httpx.Response(response.status_code, headers=response.headers,
                                  content=body, request=request)

    class TimedChat(openai_chat.OpenAIChat):
        def __init__(self, settings: Settings, *args: Any, **kwargs: Any) -> None:
            super().__init__(settings, Timed())

    openai_chat.OpenAIChat = TimedChat  # type: ignore[misc]  # what the registry makes
    with tempfile.TemporaryDirectory(prefix="rag-local-speed-") as index_dir:
        os.environ["RAG_INDEX_DIR"] = index_dir
        began = time.perf_counter()
        engine = Engine(Settings.from_env(corpus=corpus))
        engine.refresh()
        index_s = time.perf_counter() - began
        began = time.perf_counter()
        engine.backend("local")  # starts the server, as `rag ask --backend local` does
        _say({"index_s": index_s, "start_s": time.perf_counter() - began})
        for line in sys.stdin:
            requests.clear()
            began = time.perf_counter()
            answer = engine.ask(json.loads(line), backend="local")
            verification = answer.verification
            _say({"wall_s": time.perf_counter() - began, "requests": list(requests),
                  "answer": answer.text, "refused": answer.refused,
                  "repaired": bool(verification and verification.repaired),
                  "fell_back": bool(verification and verification.fell_back)})


def _say(value: dict[str, Any]) -> None:
    print(_TAG + json.dumps(value), flush=True)


def _line(result: dict[str, Any]) -> str:
    parts = [f"{result['wall_s']:5.1f} s"]
    for r in result["requests"]:
        parts.append(f"[{r.get('cache_n', 0)}+{r.get('prompt_n', 0)} tok "
                     f"{r.get('prompt_ms', 0) / 1000:.1f} s, "
                     f"{r.get('predicted_n', 0)} gen {r.get('predicted_ms', 0) / 1000:.1f} s]")
    flags = [flag for flag in ("refused", "repaired", "fell_back") if result[flag]]
    return " ".join(parts + flags)


def _table(results: dict[str, list[dict[str, Any]]]) -> None:
    """p50/p90 of a question, and the medians of where its time went."""
    print(f"{'':8s} {'p50 s':>6s} {'p90 s':>6s} {'prompt tok':>10s} {'cached':>7s} "
          f"{'prompt s':>8s} {'gen tok':>7s} {'gen s':>6s} {'rag s':>6s} {'requests':>8s}")
    for name, answers in results.items():
        walls = sorted(a["wall_s"] for a in answers)

        def median(key: str, answers: list[dict[str, Any]] = answers) -> float:
            return statistics.median(float(sum(r.get(key, 0) for r in a["requests"]))
                                     for a in answers)

        rag_s = statistics.median(a["wall_s"] - sum(r["wall_s"] for r in a["requests"])
                                  for a in answers)
        print(f"{name:8s} {statistics.median(walls):6.1f} {_p90(walls):6.1f} "
              f"{median('prompt_n'):10.0f} {median('cache_n'):7.0f} "
              f"{median('prompt_ms') / 1000:8.1f} {median('predicted_n'):7.0f} "
              f"{median('predicted_ms') / 1000:6.1f} {rag_s:6.1f} "
              f"{sum(len(a['requests']) for a in answers) / len(answers):8.2f}")
    print("(medians a question; prompt tok: evaluated, cached: reused from llama.cpp's "
          "prompt cache; requests: 1, or 2 with a repair)")


def _p90(values: list[float]) -> float:
    return values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]


if __name__ == "__main__":
    main()
