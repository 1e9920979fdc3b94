"""Fine-tune all-MiniLM-L6-v2 as rag's question-to-record embedder, contrastively, on the
real-question train sets, and measure dense retrieval on the dev sets before and after.

    python scripts/retrieval/train.py --units UNITS --weights model.safetensors --out DIR \
        [--epochs 1] [--lr 3e-5] [--batch 32] [--eval-only]

``UNITS`` is what ``make_units.py`` wrote. Needs torch, transformers, safetensors and
tokenizers (not rag dependencies). The model is the one rag embeds with today, in float:
mean pooling over the last layer, unit length. Each step takes ``--batch`` questions with
a record that holds a gold line (``pos``) and one of the BM25 shortlist's records that
holds none (``hard``); the loss is InfoNCE over every record of the batch (scale 20).

Evaluation (dev projects, every answerable question): the share whose top 8 records by
cosine, at the sentence and the chunk level, hold a gold line; for the base weights and
for the trained ones, printed per project side by side. Writes ``embedder.pt`` and
``metrics.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "rag" / "_model"
Q_TOKENS, P_TOKENS = 64, 128


class Embedder(torch.nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.bert = BertModel(config, add_pooling_layer=False)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)


def load_model(weights: Path) -> Embedder:
    config = BertConfig.from_json_file(str(MODEL_DIR / "config.json"))
    model = Embedder(config)
    state = {k.removeprefix("bert.").removeprefix("0.auto_model."): v.float()
             for k, v in load_file(str(weights)).items()}
    missing, _ = model.bert.load_state_dict(state, strict=False)
    missing = [m for m in missing if "position_ids" not in m]
    if missing:
        raise SystemExit(f"weights lack {missing[:5]}")
    return model


def tokenizer(limit: int) -> Tokenizer:
    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.enable_truncation(limit)
    tok.enable_padding()
    return tok


def encode(model: Embedder, tok: Tokenizer, texts: list[str], batch: int = 64) -> np.ndarray:
    out = []
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.no_grad():
        for b in range(0, len(order), batch):
            chosen = [texts[i] for i in order[b:b + batch]]
            enc = tok.encode_batch(chosen)
            ids = torch.tensor([e.ids for e in enc])
            mask = torch.tensor([e.attention_mask for e in enc])
            out.append(model(ids, mask).numpy())
    vectors = np.concatenate(out) if out else np.zeros((0, 384), np.float32)
    result = np.empty_like(vectors)
    result[order] = vectors
    return result


def _tensors(encodings: list) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.tensor([e.ids for e in encodings]),
            torch.tensor([e.attention_mask for e in encodings]))


def read_split(units: Path, split: str) -> dict[str, tuple[list[dict], list[dict]]]:
    projects = {}
    for questions in sorted((units / split).glob("*.questions.jsonl")):
        slug = questions.name.removesuffix(".questions.jsonl")
        with gzip.open(units / split / f"{slug}.jsonl.gz", "rt", encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        rows = [json.loads(line) for line in questions.read_text().splitlines() if line]
        projects[slug] = (records, rows)
    return projects


def evaluate(model: Embedder, projects: dict[str, tuple[list[dict], list[dict]]],
             k: int = 8) -> dict[str, dict[str, float]]:
    qtok, ptok = tokenizer(Q_TOKENS), tokenizer(P_TOKENS)
    result = {}
    for slug, (records, rows) in projects.items():
        asked = [r for r in rows if r["answerable"] and r["gold"]]
        qv = encode(model, qtok, [r["question"] for r in asked])
        scores = {}
        for level in ("sentences", "chunks"):
            recs = [r for r in records if r["level"] == level]
            pv = encode(model, ptok, [r["text"] for r in recs])
            top = np.argsort(-(qv @ pv.T), axis=1)[:, :k]
            hits = 0
            for row, ranked in zip(asked, top, strict=True):
                gold = {(s, n) for s, n in row["gold"]}
                hits += any((recs[i]["source"], n) in gold
                            for i in ranked for n in range(recs[i]["start"], recs[i]["end"] + 1))
            scores[level] = round(hits / len(asked), 3) if asked else 0.0
        result[slug] = scores
        print(f"  {slug}: {scores}", flush=True)
    return result


def training_examples(projects: dict[str, tuple[list[dict], list[dict]]],
                      rng: random.Random) -> list[tuple[str, str, str]]:
    examples = []
    for records, rows in projects.values():
        sentences = [r for r in records if r["level"] == "sentences"]
        for row in rows:
            if not row["pos"]:
                continue
            pos = sentences[rng.choice(row["pos"])]["text"]
            hard = sentences[rng.choice(row["hard"][:10])]["text"] if row["hard"] else (
                rng.choice(sentences)["text"])
            examples.append((row["question"], pos, hard))
    rng.shuffle(examples)
    return examples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=Path, required=True)
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--eval-only", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    dev = read_split(args.units, "dev")
    model = load_model(args.weights)
    model.eval()
    print("base weights, dev retrieval@8:", flush=True)
    metrics: dict[str, object] = {"base": evaluate(model, dev)}
    if args.eval_only:
        (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
        return 0
    train = read_split(args.units, "train")
    qtok, ptok = tokenizer(Q_TOKENS), tokenizer(P_TOKENS)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    began = time.monotonic()
    steps = len(training_examples(train, random.Random(0))) // args.batch
    total = steps * args.epochs  # warm-up over a tenth, then a linear decay to 0
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / max(1, total // 10)) * max(0.0, 1 - s / total))
    for epoch in range(args.epochs):
        examples = training_examples(train, rng)
        model.train()
        for step in range(steps):
            chunk = examples[step * args.batch:(step + 1) * args.batch]
            q = qtok.encode_batch([c[0] for c in chunk])
            p = ptok.encode_batch([c[1] for c in chunk] + [c[2] for c in chunk])
            qv = model(*_tensors(q))
            pv = model(*_tensors(p))
            logits = args.scale * qv @ pv.T
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(chunk)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            if step % 20 == 0:
                print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} "
                      f"{time.monotonic() - began:.0f} s", flush=True)
    model.eval()
    print("trained, dev retrieval@8:", flush=True)
    metrics["trained"] = evaluate(model, dev)
    metrics["args"] = {k: str(v) for k, v in vars(args).items()}
    torch.save(model.state_dict(), args.out / "embedder.pt")
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
