"""Answer backends: each turns a question and a retriever into a cited ``Draft``."""

from rag.answer.base import AnswerBackend, Draft, DraftCitation

__all__ = ["AnswerBackend", "Draft", "DraftCitation"]
