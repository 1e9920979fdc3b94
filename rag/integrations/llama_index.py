"""rag inside LlamaIndex, and LlamaIndex inside rag. Imported only when used:
``import rag`` never imports llama_index.

* ``LlamaIndexChat``: any LlamaIndex LLM (OpenAI, Anthropic, Ollama, vLLM, ... through
  their LlamaIndex packages) as the chat model of rag's verified LLM backend;
  ``ask_with_llm`` answers a question with it. Its answers get the same checks as the
  openai backend's: ids, support, one repair, fallback.
* ``RagRetriever``: rag's hybrid retriever as a LlamaIndex ``BaseRetriever``; each node
  carries its file and line numbers in ``metadata``.
* ``RagQueryEngine``: rag's cited answers as a LlamaIndex query engine; the response's
  source nodes are the citations, exactly as quoted from the files.
* ``MiniLMEmbedding``: the offline embedder as a LlamaIndex ``BaseEmbedding``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import (
    LLM,
    ChatMessage,
    CompletionResponse,
    CompletionResponseGen,
    CustomLLM,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import PrivateAttr

from rag.answer.extractive import ExtractiveBackend
from rag.answer.llm import ChatModel, LLMBackend
from rag.api import engine_for
from rag.embeddings import MiniLMEmbedder
from rag.engine import Engine
from rag.errors import LLMError
from rag.settings import Settings
from rag.types import Answer

__all__ = [
    "LlamaIndexChat",
    "MiniLMEmbedding",
    "RagQueryEngine",
    "RagRetriever",
    "ask_with_llm",
    "chat_as_llama_llm",
    "llm_backend",
]

_ROLES = {"system": MessageRole.SYSTEM, "user": MessageRole.USER,
          "assistant": MessageRole.ASSISTANT}


class LlamaIndexChat:
    """A LlamaIndex LLM as a rag ``ChatModel``. LlamaIndex has no common way to pass a
    JSON schema, so it is asked for text with ``[S1]`` markers."""

    structured = False

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    def complete(
        self, messages: list[dict[str, str]], schema: dict[str, Any] | None = None
    ) -> str:
        try:
            response = self.llm.chat(_messages(messages))
        except Exception as exc:  # providers raise their own error types
            raise LLMError(f"the LlamaIndex LLM failed: {exc}") from exc
        return response.message.content or ""

    def stream(
        self, messages: list[dict[str, str]], schema: dict[str, Any] | None = None
    ) -> Iterator[str]:
        try:
            for part in self.llm.stream_chat(_messages(messages)):
                if part.delta:
                    yield part.delta
        except Exception as exc:
            raise LLMError(f"the LlamaIndex LLM failed: {exc}") from exc


def chat_as_llama_llm(chat: ChatModel) -> LLM:
    """A rag ``ChatModel`` (the openai adapter, with its retries and pinned sampling) as a
    LlamaIndex LLM, so LlamaIndex engines can run over the same endpoint."""
    return _ChatLLM(chat=chat)


class _ChatLLM(CustomLLM):
    chat_model: Any = None

    def __init__(self, chat: ChatModel) -> None:
        super().__init__()
        self.chat_model = chat

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="rag-chat")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(
            text=self.chat_model.complete([{"role": "user", "content": prompt}])
        )

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        def pieces() -> CompletionResponseGen:
            text = ""
            for piece in self.chat_model.stream([{"role": "user", "content": prompt}]):
                text += piece
                yield CompletionResponse(text=text, delta=piece)

        return pieces()


def llm_backend(llm: LLM, engine: Engine) -> LLMBackend:
    """rag's verified LLM backend over a LlamaIndex LLM, falling back to extraction."""
    return LLMBackend(LlamaIndexChat(llm), engine.corpus_root, name="llama-index",
                      fallback=ExtractiveBackend())


def ask_with_llm(
    question: str, llm: LLM, *, corpus: str | Path | None = None, top_k: int | None = None
) -> Answer:
    """``rag.ask`` with a LlamaIndex LLM writing the answer; every citation verified."""
    engine = engine_for(Settings.from_env(corpus=corpus))
    return engine.answer_with(llm_backend(llm, engine), question, top_k)


class RagRetriever(BaseRetriever):
    """rag's hybrid (dense + BM25) retriever, line-anchored, for LlamaIndex pipelines."""

    def __init__(self, engine: Engine, top_k: int | None = None,
                 callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.engine = engine
        self.top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(
                node=TextNode(
                    id_=f"{p.source}:{p.start_line}-{p.end_line}",
                    text=p.text,
                    metadata={"source": p.source, "start_line": p.start_line,
                              "end_line": p.end_line},
                ),
                score=p.score,
            )
            for p in self.engine.retrieve(query_bundle.query_str, self.top_k)
        ]


class RagQueryEngine(BaseQueryEngine):
    """rag's verified, cited answers as a LlamaIndex query engine."""

    def __init__(self, engine: Engine, llm: LLM | None = None, top_k: int | None = None,
                 callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.engine = engine
        self.llm = llm
        self.top_k = top_k

    def _query(self, query_bundle: QueryBundle) -> Response:
        question = query_bundle.query_str
        if self.llm is None:
            answer = self.engine.ask(question, top_k=self.top_k)
        else:
            answer = self.engine.answer_with(llm_backend(self.llm, self.engine), question,
                                             self.top_k)
        nodes = [
            NodeWithScore(node=TextNode(
                id_=f"{c.source}:{c.start_line}-{c.end_line}", text=c.quote,
                metadata={"source": c.source, "start_line": c.start_line,
                          "end_line": c.end_line, "marker": f"[{n}]"},
            ), score=1.0)
            for n, c in enumerate(answer.citations, start=1)
        ]
        return Response(response=answer.text, source_nodes=nodes,
                        metadata={"refused": answer.refused, "answer": answer.model_dump()})

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return self._query(query_bundle)

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}


class MiniLMEmbedding(BaseEmbedding):
    """The offline all-MiniLM-L6-v2 (int8 ONNX) embedder for LlamaIndex indexes."""

    _embedder: MiniLMEmbedder = PrivateAttr()

    def __init__(self, embedder: MiniLMEmbedder | None = None, **kwargs: Any) -> None:
        super().__init__(model_name="all-MiniLM-L6-v2-int8-onnx", **kwargs)
        self._embedder = embedder or MiniLMEmbedder()

    @classmethod
    def class_name(cls) -> str:
        return "RagMiniLMEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._embedder.embed_one(query)]

    def _get_text_embedding(self, text: str) -> list[float]:
        return [float(x) for x in self._embedder.embed_one(text)]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._embedder.embed(texts)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def _messages(messages: list[dict[str, str]]) -> list[ChatMessage]:
    return [ChatMessage(role=_ROLES[m["role"]], content=m["content"]) for m in messages]
