"""Does a passage state the answer to a question? A small cross-encoder's probability.

The model (``rag/_model/answerability.onnx``, int8) is all-MiniLM-L6-v2 fine-tuned here
by ``scripts/answerability/`` on SQuAD 2.0 question/sentence pairs: a sentence is
positive when it holds an annotated answer; the negatives include, for questions written
to be unanswerable, the sentence holding the annotators' plausible answer, which speaks
of the asked thing without giving it. That is the distinction word-overlap features
cannot draw ("Algeria bought T-90 tanks" does not say how many), so the extractive
backend uses the probability as one more feature of a candidate. Offline: onnxruntime
and the packaged tokenizer, nothing else.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rag.embeddings import minilm_tokenizer, onnx_session

__all__ = ["AnswerabilityModel", "judge_passage", "packaged_model"]

MODEL_FILE = "answerability.onnx"
MAX_TOKENS = 96  # as trained (scripts/answerability/train.py)
FEEDS = (("input_ids", "ids"), ("attention_mask", "attention_mask"),
         ("token_type_ids", "type_ids"))


class AnswerabilityModel:
    """Scores (question, passage) pairs; loads the model on first use.

    Pairs are scored one per run (see ``probabilities``), and a run of one short pair
    cannot keep several cores busy, so ``workers`` runs go side by side, each on one
    thread (default: one per core, at most 4)."""

    def __init__(self, model_path: Path | None = None, workers: int | None = None,
                 max_tokens: int = MAX_TOKENS) -> None:
        self.model_path = model_path
        self.max_tokens = max_tokens  # what the model was trained to read
        self.workers = workers or min(4, os.cpu_count() or 1)
        self._loaded: tuple[Any, Any] | None = None
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def probabilities(
        self, question: str, passages: Sequence[str]
    ) -> npt.NDArray[np.float64]:
        """For each passage, the probability that it states the answer to ``question``."""
        if not passages:
            return np.zeros(0)
        session, tokenizer = self._load()
        # A text met twice (a copied file, a repeated notice) is read once: alone in its
        # run, a pair always gets the same probability.
        distinct = list(dict.fromkeys(passages))
        if len(distinct) < len(passages):
            found = dict(zip(distinct, self.probabilities(question, distinct), strict=True))
            return np.array([found[p] for p in passages])
        encodings = tokenizer.encode_batch([(question, p) for p in passages])
        # One pair per run: the int8 model quantises its activations with scales taken
        # from the whole batch, so a pair scored beside others would get a probability
        # that depends on them (and on their padding). Alone, it gets its own.
        def logit(encoding: Any) -> float:
            width = sum(encoding.attention_mask)
            feeds = {name: np.array([getattr(encoding, attr)[:width]], dtype=np.int64)
                     for name, attr in FEEDS}
            return float(np.asarray(session.run(None, feeds)[0]).reshape(-1)[0])

        if self._pool is None or len(encodings) == 1:
            logits = np.array([logit(e) for e in encodings])
        else:
            logits = np.array(list(self._pool.map(logit, encodings)))
        result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))
        return result

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._loaded is None:
                if self.model_path is not None:
                    session = onnx_session(self.model_path, threads=1)
                else:
                    # A real file for onnxruntime, also from a zipped install.
                    packaged = resources.files("rag._model") / MODEL_FILE
                    with resources.as_file(packaged) as path:
                        session = onnx_session(path, threads=1)
                self._loaded = (session, minilm_tokenizer(self.max_tokens))
                if self.workers > 1:  # onnxruntime's run() may be called from threads
                    self._pool = ThreadPoolExecutor(self.workers, "rag-answerability")
            return self._loaded


@cache
def packaged_model() -> AnswerabilityModel:
    """The packaged model, one per process: it is read-only, and loading it takes a
    moment that every engine need not pay again."""
    return AnswerabilityModel()


def judge_passage(sentence: str, cited: str) -> str:
    """What an answer judge (``scripts/answerability/make_judge_rows.py``) reads after the
    question: the sentence written in reply, then what its cited lines say after their
    heading path. It is asked whether the sentence, resting on those lines, gives the
    asker what they asked for (that the lines support it is checked apart)."""
    return f"{sentence} | {cited}"
