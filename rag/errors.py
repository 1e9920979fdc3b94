"""Errors raised by rag.

Every error rag raises on purpose is a ``RagError``; the CLI turns these into one-line
messages and exit codes (``InputError`` -> 2, any other ``RagError`` -> 1)::

    RagError
    ├── InputError              bad input from the caller: exit code 2
    │   ├── QuestionError       empty or unusable question
    │   ├── CorpusError         corpus folder missing, not a folder, or without text files
    │   └── ConfigError         a setting or argument with an impossible value
    ├── IndexBuildError         the index could not be read or written (Chroma, disk, lock)
    │   └── IndexDamagedError   the index files are damaged: `rag index --rebuild`
    ├── BackendError            an answer backend failed
    │   ├── LocalModelError     the local model cannot be fetched, or its server started
    │   └── LLMError            the LLM endpoint failed (bad key, URL, model, timeout, ...)
    │       └── StructuredOutputRejected   the endpoint does not take a JSON schema
    │                                      (the backend asks again in text)
    └── CitationError           a citation does not resolve against its file (a bug: never
                                returned to a caller, raised instead)

Warnings (``RagWarning``) are shown by the CLI as ``rag: warning: ...`` lines:
``SkippedFileWarning``, a corpus file that is not UTF-8 text was skipped;
``LargeFileWarning``, a file big enough that indexing it takes long; and
``StaleIndexWarning``, the index could not be brought up to date (another process is
building it, or the update failed), so the answer comes from the last complete index.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "CitationError",
    "ConfigError",
    "CorpusError",
    "IndexBuildError",
    "IndexDamagedError",
    "InputError",
    "LLMError",
    "LargeFileWarning",
    "LocalModelError",
    "QuestionError",
    "RagError",
    "RagWarning",
    "SkippedFileWarning",
    "StaleIndexWarning",
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


class IndexDamagedError(IndexBuildError):
    """The index files cannot be read; ``rag index --rebuild`` builds them again."""


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


class RagWarning(UserWarning):
    """Base class of the warnings rag gives."""


class SkippedFileWarning(RagWarning):
    """A corpus file was skipped because it is not UTF-8 text."""


class LargeFileWarning(RagWarning):
    """A corpus file is so big that indexing it will take a long time."""


class StaleIndexWarning(RagWarning):
    """The index could not be updated; answers come from the last complete index."""
