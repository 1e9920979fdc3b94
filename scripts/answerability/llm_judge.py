"""An answer judge from the local 1.5B model (an experiment; nothing ships yet): its
probability of "Yes" to "does the sentence answer the question?", alone and combined with
MiniLM cosines, against the labelled sentences of ``benchmarks/verifier.py``.

    rag local serve --port 8711 &                 # the real local model, llama.cpp
    python scripts/answerability/llm_judge.py score     # ~3 s a sentence on 2 cores
    python scripts/answerability/llm_judge.py report

``score`` asks the model (one token, ``logprobs``, temperature 0) for every labelled
sentence and for a seeded sample of 360 sentences of ``evals/realq/judge/written.jsonl.gz``
(train projects only) and writes the probabilities to ``--out``. ``report`` fits a
logistic combiner of [P(yes), cosine(question, sentence), cosine(question, cited lines),
the word checks' verdict] on the written sample's supported sentences (never on a
labelled set) and prints, per labelled set, the AUC of each signal for "answers" among
supported sentences, and the checker's false passes and drops with the combiner
overruling the word checks at T and dropping what they pass below B.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import sys
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from verifier import LABELLED, checked_row  # noqa: E402

from rag.answer.lexicon import WordVectors  # noqa: E402
from rag.answer.llm.checking import OVERRULABLE  # noqa: E402
from rag.corpus import quote_lines  # noqa: E402
from rag.embeddings import MiniLMEmbedder  # noqa: E402
from rag.evaluation.dataset import laid_out_corpora  # noqa: E402

SYSTEM = "You judge whether a sentence answers a question. Reply with one word: Yes or No."
WRITTEN = ROOT / "evals" / "realq" / "judge" / "written.jsonl.gz"
KEYS = ("llm", "cos_s", "cos_c", "words")


def p_yes(url: str, question: str, sentence: str) -> float:
    user = f"Question: {question}\nSentence: {sentence}\nDoes the sentence answer the question?"
    body = {"messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": user}],
            "max_tokens": 1, "logprobs": True, "top_logprobs": 10, "temperature": 0}
    request = urllib.request.Request(f"{url}/chat/completions", json.dumps(body).encode(),
                                     {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        top = json.load(response)["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    yes = sum(math.exp(t["logprob"]) for t in top if t["token"].strip().lower() == "yes")
    no = sum(math.exp(t["logprob"]) for t in top if t["token"].strip().lower() == "no")
    return yes / (yes + no) if yes + no else 0.5


def labelled() -> list[tuple[str, Path, list[dict[str, Any]]]]:
    out = []
    for path, corpus in LABELLED:
        rows = [json.loads(line) for line in path.open()]
        rows = [r for r in rows if r["supported"] is not None and r["answers"] is not None]
        if corpus.is_dir():
            out.append((path.name, corpus, rows))
    return out


def written_sample(n: int = 360, seed: int = 7) -> list[dict[str, Any]]:
    with gzip.open(WRITTEN, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return random.Random(seed).sample(rows, n)


def auc(scores: list[float], labels: list[bool]) -> float:
    s, y = np.asarray(scores, float), np.asarray(labels, bool)
    pos, neg = s[y], s[~y]
    if not len(pos) or not len(neg):
        return float("nan")
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def features(rows: list[dict[str, Any]], corpora: list[Path], llm: list[float],
             embedder: MiniLMEmbedder, similar: Any) -> list[dict[str, Any]]:
    cited = [" ".join(quote_lines(c, p["source"], p["line"], p["line"]).strip()
                      for p in r["cites"]) for r, c in zip(rows, corpora, strict=True)]
    q = embedder.embed([r["question"] for r in rows])
    s = embedder.embed([r["sentence"] for r in rows])
    c = embedder.embed(cited)
    out = []
    for i, (row, corpus) in enumerate(zip(rows, corpora, strict=True)):
        checked = checked_row(row, similar, corpus)
        overrulable = not checked.passed and all(
            p.startswith(OVERRULABLE) for p in checked.problems)
        out.append({"llm": llm[i], "cos_s": float(q[i] @ s[i]), "cos_c": float(q[i] @ c[i]),
                    "words": float(checked.passed), "passed": checked.passed,
                    "overrulable": overrulable})
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """L2-regularised logistic regression by Newton steps; the last weight is the bias."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(xb.shape[1])
    penalty = np.r_[np.full(x.shape[1], l2), 0.0]
    for _ in range(50):
        p = 1 / (1 + np.exp(-xb @ beta))
        gradient = xb.T @ (p - y) + penalty * beta
        hessian = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty)
        beta -= np.linalg.solve(hessian, gradient)
    return beta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("score", "report"))
    parser.add_argument("--url", default="http://127.0.0.1:8711/v1")
    parser.add_argument("--out", type=Path, default=Path("/tmp/llm_judge.json"))
    args = parser.parse_args()
    sets = labelled()
    if args.step == "score":
        scores = {name: [p_yes(args.url, r["question"], r["sentence"]) for r in rows]
                  for name, _, rows in sets}
        scores["written"] = [p_yes(args.url, r["question"], r["sentence"])
                             for r in written_sample()]
        args.out.write_text(json.dumps(scores))
        return
    scores = json.loads(args.out.read_text())
    embedder = MiniLMEmbedder()
    similar = WordVectors(embedder).best
    written = written_sample()
    root = laid_out_corpora("realq")
    wf = features(written, [root / r["project"] for r in written], scores["written"],
                  embedder, similar)
    supported = [i for i, r in enumerate(written) if r["supported"]]
    beta = fit(np.array([[wf[i][k] for k in KEYS] for i in supported]),
               np.array([float(written[i]["answers"]) for i in supported]))
    print("combiner fitted on the written sample:",
          {k: round(float(b), 2) for k, b in zip((*KEYS, "bias"), beta, strict=True)})
    for name, corpus, rows in [("written", root, written), *sets]:
        f = wf if name == "written" else features(rows, [corpus] * len(rows), scores[name],
                                                  embedder, similar)
        combined = [float(1 / (1 + np.exp(-(beta[-1] + sum(
            b * x[k] for b, k in zip(beta, KEYS, strict=False)))))) for x in f]
        sup = [i for i, r in enumerate(rows) if r["supported"]]
        answers = [bool(rows[i]["answers"]) for i in sup]
        aucs = {k: auc([f[i][k] for i in sup], answers) for k in KEYS}
        aucs["combined"] = auc([combined[i] for i in sup], answers)
        print(f"\n{name}: {len(rows)} sentences; AUC for answers among supported: "
              + ", ".join(f"{k} {v:.3f}" for k, v in aucs.items()))
        if name == "written":
            continue
        ok = [bool(r["supported"] and r["answers"]) for r in rows]
        for at, below in ((None, 0.0), (0.5, 0.0), (0.5, 0.3), (0.6, 0.0), (0.6, 0.2), (0.7, 0.2)):
            passed = [(x["passed"] and p >= below) or (
                at is not None and x["overrulable"] and p >= at) for x, p in zip(
                f, combined, strict=True)]
            fp = sum(p and not o for p, o in zip(passed, ok, strict=True))
            fd = sum(o and not p for p, o in zip(passed, ok, strict=True))
            label = "word checks alone" if at is None else f"overrule at {at}, drop below {below}"
            print(f"  {label}: false passes {fp}/{len(ok) - sum(ok)}, "
                  f"false drops {fd}/{sum(ok)}")


if __name__ == "__main__":
    main()
