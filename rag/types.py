"""The data rag passes around and returns: passages, citations, answers, index stats.

All are pydantic models, so ``model_dump_json()`` gives the JSON the CLI prints.
Line numbers are 1-based and inclusive, exactly as an editor shows them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Answer", "Citation", "IndexStats", "Passage", "Verification"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _LineRange(_Frozen):
    source: str = Field(description="Path relative to the corpus root, with '/' separators.")
    start_line: int = Field(ge=1, description="First line, 1-based.")
    end_line: int = Field(ge=1, description="Last line, 1-based, inclusive.")

    @model_validator(mode="after")
    def _ordered(self) -> _LineRange:
        if self.end_line < self.start_line:
            raise ValueError(f"end_line {self.end_line} is before start_line {self.start_line}")
        return self


class Passage(_LineRange):
    """A retrieved piece of a file: a window of whole lines, or sentences of one line."""

    text: str
    score: float = Field(description="Fused retrieval score; higher is better.")
    dense_score: float | None = Field(default=None, description="Cosine similarity, if known.")
    lexical_score: float | None = Field(default=None, description="BM25 score, if matched.")


class Citation(_LineRange):
    """Lines of a file an answer rests on; ``quote`` is exactly those lines, joined by '\\n'.

    For a PDF the lines are those of its text as rag extracts it (every page after a line
    of its own), and ``page`` with ``page_start_line``/``page_end_line`` say where they
    are: the page, and the lines within that page's text."""

    quote: str
    page: int | None = Field(default=None, ge=1, description="A PDF's page, 1-based.")
    page_start_line: int | None = Field(default=None, ge=1,
                                        description="First line within the page's text.")
    page_end_line: int | None = Field(default=None, ge=1,
                                      description="Last line within the page's text.")


class Verification(_Frozen):
    """What the verifier did to an LLM answer before it was returned."""

    dropped: list[str] = Field(default_factory=list, description="Sentences removed, with why.")
    recited: list[str] = Field(
        default_factory=list,
        description="Sentences kept with the line that states them instead of the one cited.",
    )
    repaired: bool = False
    fell_back: bool = False


class Answer(_Frozen):
    """An answer whose text carries markers ``[1]``, ``[2]``... that index ``citations``."""

    question: str
    text: str
    refused: bool
    citations: list[Citation]
    backend: str
    verification: Verification | None = None

    @model_validator(mode="after")
    def _refusal_has_no_citations(self) -> Answer:
        if self.refused and self.citations:
            raise ValueError("a refused answer carries no citations")
        return self


class IndexStats(_Frozen):
    """What ``build_index`` found and did."""

    corpus: str
    index_dir: str
    files: int
    chunks: int
    sentences: int
    embedded: int = Field(description="Records embedded by this call (0 when nothing changed).")
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list, description="Files that are not UTF-8 text.")
