"""The extractive backend's words: the base vocabulary (``rag.language``) plus the news
aliases in ``data/aliases.tsv`` ("Moscow" and "the Kremlin" for Russia, "the US" for
America), which help it find the sentence about a country named another way. They are
the backend's own: the checker never sees them.
"""

from __future__ import annotations

from rag.language.questions import QuestionInfo
from rag.language.questions import analyze_question as _analyze
from rag.language.words import BASE, read_table

__all__ = ["NEWS", "analyze_question", "canonical", "term_set"]

NEWS = BASE.with_places(read_table("aliases.tsv", "rag.answer"))
canonical = NEWS.form
term_set = NEWS.forms


def analyze_question(question: str) -> QuestionInfo:
    """``rag.language.analyze_question`` in the news vocabulary."""
    return _analyze(question, NEWS)
