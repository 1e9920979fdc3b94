"""Export a fine-tuned embedder (train.py's ``embedder.pt``) as rag's embedder runs it:
ONNX with the last hidden state as output (rag pools and normalises), int8 weights.

    python scripts/retrieval/export.py --run DIR     # writes DIR/embedder.onnx

Needs torch, transformers, onnx and onnxruntime. The int8 model's vectors are compared
with the float model's on a few texts (cosine printed; it must stay near 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import BertConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train import MODEL_DIR, Embedder, encode, tokenizer


class HiddenStates(torch.nn.Module):
    def __init__(self, model: Embedder) -> None:
        super().__init__()
        self.bert = model.bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids).last_hidden_state


def main() -> int:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, required=True)
    args = parser.parse_args()
    model = Embedder(BertConfig.from_json_file(str(MODEL_DIR / "config.json")))
    model.load_state_dict(torch.load(args.run / "embedder.pt", map_location="cpu"))
    model.eval()
    texts = ["How do I turn off redirects for one request?",
             "Redirects are followed unless you pass follow_redirects=False.",
             "The harbour has four cranes and a lighthouse."]
    reference = encode(model, tokenizer(256), texts)  # before tracing, which changes the model
    float_path, int8_path = args.run / "embedder.float.onnx", args.run / "embedder.onnx"
    ids = torch.ones((2, 16), dtype=torch.long)
    torch.onnx.export(
        HiddenStates(model), (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        str(float_path), input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"], opset_version=17, dynamo=False,
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in
                      ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")})
    quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8,
                     per_channel=True, reduce_range=True)
    float_path.unlink()
    import onnxruntime

    session = onnxruntime.InferenceSession(str(int8_path), providers=["CPUExecutionProvider"])
    exported = []
    for text in texts:  # as rag.embeddings runs it: mean pooling, unit length
        enc = tokenizer(256).encode(text)
        ids_, mask = np.array([enc.ids]), np.array([enc.attention_mask])
        hidden = session.run(None, {"input_ids": ids_, "attention_mask": mask,
                                    "token_type_ids": np.zeros_like(ids_)})[0][0]
        pooled = hidden.mean(axis=0)
        exported.append(pooled / np.linalg.norm(pooled))
    print("int8 vs float cosine:", np.round((np.array(exported) * reference).sum(axis=1), 4))
    print(f"wrote {int8_path} ({int8_path.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
