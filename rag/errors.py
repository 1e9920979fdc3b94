"""Errors raised by rag.

Every error rag raises on purpose is a ``RagError``; the CLI turns these into one-line
messages and exit codes (``InputError`` -> 2, any other ``RagError`` -> 1)::

    RagError
    ├── InputError              bad input from the caller: exit code 2
    │   ├── QuestionError       empty or unusable question
    │   ├── CorpusError         corpus folder missing, not a folder, or without text files
    │   └── ConfigError         a setting or argument with an impossible value
    ├── IndexBuildError         the index could not be read or written (Chroma, disk, lock)
    ├── BackendError            an answer backend failed
    │   ├── LocalModelError     the local model cannot be fetched, or its server started
    │   └── LLMError            the LLM endpoint failed (bad key, URL, model, timeout, ...)
    │       └── StructuredOutputRejected   the endpoint does not take a JSON schema
    │                                      (the backend asks again in text)
    └── CitationError           a citation does not resolve against its file (a bug: never
                                returned to a caller, raised instead)

``SkippedFileWarning`` is a warning, not an error: a corpus file that is not UTF-8 text
is skipped and named.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "CitationError",
    "ConfigError",
    "CorpusError",
    "IndexBuildError",
    "InputError",
    "LLMError",
    "LocalModelError",
    "QuestionError",
    "RagError",
    "SkippedFileWarning",
    "StructuredOutputRejected",
]


class RagError(Exception):
    """Base class of every error rag raises on purpose."""


class InputError(RagError):
    """The caller gave input rag cannot work with."""


class QuestionError(InputError):
    """The question is empty or unusable."""


class CorpusError(InputError):
    """The corpus folder is missing, is not a folder, or holds no readable text files."""


class ConfigError(InputError):
    """A setting or argument has an impossible value."""


class IndexBuildError(RagError):
    """The index could not be read or written."""


class BackendError(RagError):
    """An answer backend failed."""


class LocalModelError(BackendError):
    """The local model could not be fetched or checked, or its server did not start."""


class LLMError(BackendError):
    """The LLM endpoint failed; ``raw`` carries the completion or response body if any."""

    def __init__(self, message: str, *, raw: str | None = None) -> None:
        super().__init__(message)
        self.raw = raw


class StructuredOutputRejected(LLMError):
    """The endpoint rejected ``response_format`` with a JSON schema; ask it in text."""


class CitationError(RagError):
    """A citation does not resolve exactly against the current file."""


class SkippedFileWarning(UserWarning):
    """A corpus file was skipped because it is not UTF-8 text."""
