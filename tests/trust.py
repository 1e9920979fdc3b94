"""The check every LLM end-to-end test makes: nothing unverified comes out."""

from __future__ import annotations

from rag.engine import Engine
from rag.types import Answer
from rag.verify import cited_sentences, sentence_support


def assert_trustworthy(engine: Engine, answer: object) -> None:
    """Every citation quotes its file's lines exactly; every sentence is supported by the
    lines it cites; a refusal cites nothing."""
    assert isinstance(answer, Answer)
    for citation in answer.citations:
        lines = (engine.corpus_root / citation.source).read_text(encoding="utf-8").split("\n")
        assert citation.quote == "\n".join(lines[citation.start_line - 1 : citation.end_line])
    if answer.refused:
        assert not answer.citations
        return
    for sentence, quotes in cited_sentences(answer):
        assert sentence_support(sentence, quotes).supported, sentence
