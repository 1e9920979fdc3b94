"""rag: cited answers over a folder of text files.

>>> import rag
>>> answer = rag.ask("How many T-90 tanks did Egypt buy?")  # doctest: +SKIP
>>> answer.citations[0].source, answer.citations[0].start_line  # doctest: +SKIP
('001_8eb2f5025aa8eb43.txt', 76)
"""

from rag.api import ask, build_index, retrieve
from rag.errors import (
    BackendError,
    CitationError,
    ConfigError,
    CorpusError,
    IndexBuildError,
    IndexDamagedError,
    InputError,
    LargeFileWarning,
    LLMError,
    LocalModelError,
    QuestionError,
    RagError,
    RagWarning,
    SkippedFileWarning,
    StaleIndexWarning,
    StructuredOutputRejected,
)
from rag.types import Answer, Citation, IndexStats, Passage, Verification

__all__ = [
    "Answer",
    "BackendError",
    "Citation",
    "CitationError",
    "ConfigError",
    "CorpusError",
    "IndexBuildError",
    "IndexDamagedError",
    "IndexStats",
    "InputError",
    "LLMError",
    "LargeFileWarning",
    "LocalModelError",
    "Passage",
    "QuestionError",
    "RagError",
    "RagWarning",
    "SkippedFileWarning",
    "StaleIndexWarning",
    "StructuredOutputRejected",
    "Verification",
    "__version__",
    "ask",
    "build_index",
    "retrieve",
]

__version__ = "0.1.0"
