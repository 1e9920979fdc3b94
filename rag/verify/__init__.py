"""Checks done by code, never by prompt, on whatever a backend writes: which sentences an
answer has and which lines each cites (``markers``), whether those lines support each
sentence (``support``), and whether a sentence answers the question asked at all
(``relevance``). Built on ``rag.language`` only: no backend's word lists."""

from rag.verify.markers import (
    ID_MARKERS,
    NUMBER_MARKERS,
    cited_sentences,
    split_cited,
    split_marked,
)
from rag.verify.relevance import answers_question
from rag.verify.support import MIN_CONTENT, Support, sentence_support

__all__ = [
    "ID_MARKERS",
    "MIN_CONTENT",
    "NUMBER_MARKERS",
    "Support",
    "answers_question",
    "cited_sentences",
    "sentence_support",
    "split_cited",
    "split_marked",
]
