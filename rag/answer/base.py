"""The contract between the engine and its answer backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rag.types import Verification

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rag.retrieval import Retriever

__all__ = ["REFUSAL_TEXT", "AnswerBackend", "CheckedText", "Done", "Draft", "DraftCitation",
           "SentenceChecked", "StreamEvent", "StreamingBackend", "Token"]

REFUSAL_TEXT = "The documents do not contain the answer to this question."


@dataclass(frozen=True)
class DraftCitation:
    """Lines a draft cites, and the text of them it relied on (checked against the file)."""

    source: str
    start_line: int
    end_line: int
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Draft:
    """A backend's answer before the engine resolves its citations against the files.

    ``text`` carries markers ``[1]``, ``[2]``... numbering ``citations`` from 1.
    """

    text: str
    citations: list[DraftCitation] = field(default_factory=list)
    refused: bool = False
    verification: Verification | None = None

    @classmethod
    def refusal(
        cls, reason: str = REFUSAL_TEXT, verification: Verification | None = None
    ) -> Draft:
        return cls(text=reason, refused=True, verification=verification)


class CheckedText(Protocol):
    """A sentence a streaming backend has checked, as the engine and the CLI read it."""

    @property
    def text(self) -> str: ...

    @property
    def problems(self) -> tuple[str, ...]: ...  # why it failed; empty when it passed

    @property
    def passed(self) -> bool: ...


@dataclass(frozen=True)
class Token:
    """A piece of the answer's text as it arrived."""

    text: str


@dataclass(frozen=True)
class SentenceChecked:
    """A sentence of the answer, checked as soon as it ended."""

    sentence: CheckedText


@dataclass(frozen=True)
class Done:
    """The verified draft: the same as ``answer`` gives for the same completion."""

    draft: Draft


StreamEvent = Token | SentenceChecked | Done
"""What a streamed answer yields: the text as it arrives, each sentence once it is
checked, then the draft."""


class AnswerBackend(Protocol):
    name: str

    def answer(self, question: str, retriever: Retriever, top_k: int) -> Draft: ...


@runtime_checkable
class StreamingBackend(AnswerBackend, Protocol):
    """A backend that can also show its answer as it is written (``rag chat``): text as it
    arrives, each sentence as soon as it is checked, then the same draft ``answer`` gives."""

    def stream(self, question: str, retriever: Retriever, top_k: int) -> Iterator[StreamEvent]: ...
