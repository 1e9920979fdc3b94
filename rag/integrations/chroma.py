"""The offline MiniLM embedder as a Chroma embedding function.

Chroma's default embedding function downloads its model at first use, which fails
offline. Pass this one instead, or hand Chroma vectors as rag itself does::

    collection = client.create_collection("docs", embedding_function=MiniLMEmbeddingFunction())
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from rag.embeddings import MODEL_ID, MiniLMEmbedder

__all__ = ["MiniLMEmbeddingFunction"]


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """``MiniLMEmbedder`` as a Chroma embedding function (offline, no download)."""

    def __init__(self, embedder: MiniLMEmbedder | None = None) -> None:
        self._embedder = embedder or MiniLMEmbedder()

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "rag-minilm-l6-v2-int8"

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> Any:
        return ["cosine", "ip", "l2"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_ID}
