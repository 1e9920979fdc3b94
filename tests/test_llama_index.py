"""The LlamaIndex adapters, with a real LlamaIndex LLM class (a ``CustomLLM`` that
answers from the prompt it is given) and LlamaIndex's own retriever and engine APIs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback
from pydantic import Field

from rag.embeddings import MiniLMEmbedder
from rag.engine import Engine
from rag.integrations.llama_index import (
    MiniLMEmbedding,
    RagQueryEngine,
    RagRetriever,
    llm_backend,
)

QUESTION = "How many T-90 tanks did Egypt buy in July?"


class QuotingLLM(CustomLLM):
    """Cites the context line holding ``needle``, and adds a sentence no line supports."""

    needle: str = "Egypt bought 500 Russian"
    prompts: list[str] = Field(default_factory=list)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="quoting")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self.prompts.append(prompt)
        found = re.search(rf"\[(S\d+)\] \([^)]*\) ([^\n]*{self.needle}[^\n]*)", prompt)
        if not found:
            return CompletionResponse(text="INSUFFICIENT_EVIDENCE")
        return CompletionResponse(
            text=f"{found.group(2).strip()} [{found.group(1)}]. Egypt paid in gold [S1]."
        )

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        text = self.complete(prompt).text
        acc = ""
        for word in text.split(" "):
            acc += word + " "
            yield CompletionResponse(text=acc, delta=word + " ")


def test_a_llama_index_llm_answers_with_verified_citations(seeds_engine: Engine) -> None:
    llm = QuotingLLM(prompts=[])
    answer = seeds_engine.answer_with(llm_backend(llm, seeds_engine), QUESTION)
    assert answer.backend == "llama-index"
    assert [(c.source, c.start_line) for c in answer.citations] == [
        ("001_8eb2f5025aa8eb43.txt", 76)
    ]
    assert "gold" not in answer.text  # unsupported, so dropped
    assert answer.verification is not None
    assert answer.verification.repaired
    assert len(llm.prompts) == 2


def test_retriever_nodes_carry_lines(seeds_engine: Engine) -> None:
    nodes = RagRetriever(seeds_engine, top_k=3).retrieve(QUESTION)
    assert len(nodes) == 3
    for node in nodes:
        meta = node.node.metadata
        lines = (seeds_engine.corpus_root / meta["source"]).read_text().split("\n")
        window = lines[meta["start_line"] - 1 : meta["end_line"]]
        assert all(part.strip() in " ".join(window) for part in node.node.get_content().split("\n"))


@pytest.mark.parametrize("with_llm", [False, True])
def test_query_engine_source_nodes_are_the_citations(
    seeds_engine: Engine, with_llm: bool
) -> None:
    engine = RagQueryEngine(seeds_engine, llm=QuotingLLM(prompts=[]) if with_llm else None)
    response = engine.query(QUESTION)
    assert "500" in str(response)
    assert response.metadata is not None
    answer = response.metadata["answer"]
    assert [n.node.metadata["start_line"] for n in response.source_nodes] == [
        c["start_line"] for c in answer["citations"]
    ]
    assert all(n.node.get_content() == c["quote"]
               for n, c in zip(response.source_nodes, answer["citations"], strict=True))


def test_minilm_embedding_is_a_llama_index_embedding(embedder: MiniLMEmbedder) -> None:
    embedding = MiniLMEmbedding(embedder)
    query = embedding.get_query_embedding("tanks bought by Egypt")
    texts = embedding.get_text_embedding_batch(["Egypt bought tanks.", "Bread recipes."])
    assert len(query) == 384
    close = sum(a * b for a, b in zip(query, texts[0], strict=True))
    far = sum(a * b for a, b in zip(query, texts[1], strict=True))
    assert close > far
