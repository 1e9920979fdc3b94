"""What a streamed answer yields (``LLMBackend.stream``, ``Engine.ask_stream``): the
text as it arrives, each sentence once it is checked, then the verified draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer.base import Draft
from rag.answer.llm.checking import CheckedSentence

__all__ = ["Done", "SentenceChecked", "StreamEvent", "Token"]


@dataclass(frozen=True)
class Token:
    """A piece of the answer's text as it arrived."""

    text: str


@dataclass(frozen=True)
class SentenceChecked:
    """A sentence of the completion, checked as soon as it ended."""

    sentence: CheckedSentence


@dataclass(frozen=True)
class Done:
    """The verified draft: the same as ``answer`` gives for the same completion."""

    draft: Draft


StreamEvent = Token | SentenceChecked | Done
