"""The engine: keeps one corpus's index fresh, retrieves, runs a backend, and checks
every citation against the current files before an answer leaves.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rag.answer.base import AnswerBackend, Draft, SentenceChecked, StreamingBackend, Token
from rag.answer.registry import backend_options, make_backend
from rag.answer.vocabulary import NEWS
from rag.corpus import quote_of, read_lines, scan_corpus
from rag.embeddings import MiniLMEmbedder
from rag.errors import (
    CitationError,
    IndexBuildError,
    IndexDamagedError,
    QuestionError,
    RagWarning,
    StaleIndexWarning,
)
from rag.formats import file_format
from rag.language.words import terms
from rag.pdf import page_location
from rag.retrieval import Retriever
from rag.settings import Settings
from rag.store import IndexBusyError, IndexStore, Progress
from rag.types import Answer, Citation, IndexStats, Passage

__all__ = ["MARKER", "VAGUE_TEXT", "Engine", "checked_question", "names_nothing", "resolve_draft"]

MARKER = re.compile(r"\[(\d+)\]")
MAX_QUESTION_CHARS = 2000


class Engine:
    """One corpus, one index folder. Thread-safe; cheap to query once warm."""

    def __init__(self, settings: Settings, embedder: MiniLMEmbedder | None = None) -> None:
        scan_corpus(settings.corpus)  # a missing corpus is an error before anything is opened
        backend_options(settings)  # and so is a backend no one registered, or a bad option
        self.settings = settings
        self.corpus_root = settings.corpus.resolve()
        self.embedder = embedder or MiniLMEmbedder()
        self.store = IndexStore(
            self.corpus_root, settings.index_dir, self.embedder, chroma_url=settings.chroma_url,
            timeout_s=settings.timeout_s,
        )
        self._retriever: Retriever | None = None
        self._manifest_stamp: tuple[int, int] | None = None
        self._lock = threading.RLock()
        self._backends: dict[tuple[str, str], AnswerBackend] = {}

    def build(self, progress: Progress | None = None, *, rebuild: bool = False) -> IndexStats:
        """Bring the index up to date with the corpus (incremental); ``rebuild`` builds it
        from nothing, moving a damaged one aside."""
        with self._lock:
            stats = self.store.rebuild(progress) if rebuild else self.store.build(progress)
            self._retriever = None
            return stats

    def refresh(self, progress: Progress | None = None) -> None:
        """Make sure questions are answered from an index of the corpus as it is now.

        When it cannot be updated now (another process is building it, or the build
        failed, say on a full disk) and a complete index exists, questions are answered
        from that one and a ``StaleIndexWarning`` says so; a damaged index is an error."""
        with self._lock:
            manifest = self.store.read_manifest()
            if self.store.is_fresh(manifest):
                return
            # A build that commits writes a new manifest, whose stamp makes ``retriever``
            # read it; one that cannot leaves the last complete index, and its retriever.
            if not manifest.files:  # nothing to fall back on: build, waiting if need be
                try:
                    self.store.build(progress, wait=False)
                except IndexBusyError:
                    warnings.warn(RagWarning(
                        "another rag process is building the index; waiting for it"
                    ), stacklevel=2)
                    self.store.build(progress)
                return
            try:
                self.store.build(progress, wait=False)
            except IndexBusyError:
                warnings.warn(StaleIndexWarning(
                    "another rag process is updating the index; answering from the last "
                    "complete index"
                ), stacklevel=2)
            except IndexDamagedError:
                raise
            except IndexBuildError as exc:
                # Said only once the last complete index is open: when it cannot be read
                # either (a dead Chroma server), that error is the one to show.
                self._current()
                warnings.warn(StaleIndexWarning(
                    f"the index could not be updated ({exc}); answering from the last "
                    "complete index"
                ), stacklevel=2)

    def retriever(self) -> Retriever:
        """A retriever over an index that matches the corpus as it is now (or the last
        complete one, see ``refresh``)."""
        with self._lock:
            self.refresh()
            return self._current()

    def _current(self) -> Retriever:
        """The retriever of the last complete index, read again when its manifest changed."""
        manifest = self.store.read_manifest()
        stamp = _file_stamp(self.store.manifest_path)
        if self._retriever is None or stamp != self._manifest_stamp:
            self._retriever = Retriever(self.store, manifest, self.embedder, NEWS)
            self._manifest_stamp = stamp
        return self._retriever

    def retrieve(self, question: str, top_k: int | None = None) -> list[Passage]:
        """The best chunks for ``question``."""
        question = checked_question(question)
        return self.retriever().search(question, self.settings.with_(top_k=top_k).top_k)

    def ask(
        self, question: str, top_k: int | None = None, backend: str | None = None,
        **options: Any,
    ) -> Answer:
        """Answer ``question`` with verified citations, or refuse. ``options`` are the
        backend's (``model=``, ``base_url=`` for openai), over those the engine was made
        with; None leaves one as it was."""
        settings = self.settings.with_(backend=backend, top_k=top_k).with_options(**options)
        return self.answer_with(self._backend(settings), question, settings.top_k)

    def answer_with(
        self, answerer: AnswerBackend, question: str, top_k: int | None = None
    ) -> Answer:
        """Answer with any backend object (a LlamaIndex LLM's, a custom one): its draft is
        resolved and checked against the files like every other."""
        question = checked_question(question)
        if names_nothing(question):
            return _vague(question, answerer.name)
        top_k = self.settings.with_(top_k=top_k).top_k
        for attempt in range(2):
            draft = answerer.answer(question, self.retriever(), top_k)
            try:
                return resolve_draft(question, draft, answerer.name, self.corpus_root)
            except CitationError:
                # A file changed between indexing and quoting: refresh once and retry.
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def ask_stream(
        self, question: str, top_k: int | None = None, backend: str | None = None,
        **options: Any,
    ) -> Iterator[str | SentenceChecked | Answer]:
        """Like ``ask``, for a terminal: the completion's text as it arrives and each of its
        sentences as soon as it is checked, then the Answer (equal to ``ask``'s for the
        same completion). Backends that do not stream yield the Answer alone."""
        question = checked_question(question)
        settings = self.settings.with_(backend=backend, top_k=top_k).with_options(**options)
        answerer = self._backend(settings)
        if names_nothing(question):
            yield _vague(question, answerer.name)
            return
        if not isinstance(answerer, StreamingBackend):
            yield self.ask(question, top_k, backend, **options)
            return
        for event in answerer.stream(question, self.retriever(), settings.top_k):
            if isinstance(event, Token):
                yield event.text
            elif isinstance(event, SentenceChecked):
                yield event
            else:
                yield resolve_draft(question, event.draft, answerer.name, self.corpus_root)

    def backend(self, backend: str | None = None, **options: Any) -> AnswerBackend:
        """The answer backend ``ask`` would use with these choices, made now (for the
        local backend: its model started) and kept for later questions."""
        return self._backend(self.settings.with_(backend=backend).with_options(**options))

    def _backend(self, settings: Settings) -> AnswerBackend:
        # The environment is the engine's throughout: only the options given can differ.
        key = (settings.backend, _options_key(settings.options))
        if key not in self._backends:
            self._backends[key] = make_backend(settings, self.corpus_root)
        return self._backends[key]


def _options_key(options: Mapping[str, Any]) -> str:
    """Options given as arguments, as a key (their values may be dicts, not hashable)."""
    return repr(sorted(options.items()))


def resolve_draft(question: str, draft: Draft, backend: str, corpus_root: Path) -> Answer:
    """Turn a draft into an Answer, reading every cited line from the current file.

    Raises ``CitationError`` if a citation's lines do not exist, if the text the backend
    relied on is not in those lines, or if the markers and citations do not match.
    """
    if draft.refused:
        return Answer(
            question=question, text=draft.text, refused=True, citations=[], backend=backend,
            verification=draft.verification,
        )
    citations = []
    for cited in draft.citations:
        lines = read_lines(corpus_root, cited.source)  # read once: quoted, and paged
        quote = quote_of(lines, cited.source, cited.start_line, cited.end_line)
        for evidence in cited.evidence:
            if evidence not in quote:
                raise CitationError(
                    f"{cited.source}:{cited.start_line}-{cited.end_line} no longer says "
                    f"{evidence[:60]!r}: the file changed since it was indexed; "
                    "`rag index --rebuild` reads every file again"
                )
        citations.append(
            Citation(source=cited.source, start_line=cited.start_line,
                     end_line=cited.end_line, quote=quote,
                     **_page(lines, cited.source, cited.start_line, cited.end_line))
        )
    used = {int(m) for m in MARKER.findall(draft.text)}
    if not citations or used != set(range(1, len(citations) + 1)):
        raise CitationError(
            f"markers {sorted(used)} do not match {len(citations)} citations in {draft.text!r}"
        )
    return Answer(
        question=question, text=draft.text, refused=False, citations=citations,
        backend=backend, verification=draft.verification,
    )


def _page(lines: tuple[str, ...], source: str, start: int, end: int) -> dict[str, int]:
    """Where a PDF citation's lines are: its page and the lines within the page (from
    the start's page; lines that run onto the next page end with that page's line)."""
    if file_format(source) != "pdf":
        return {}
    page, first = page_location(lines, start)
    return {"page": page, "page_start_line": first,
            "page_end_line": page_location(lines, end)[1]}


VAGUE_TEXT = ("The question names nothing to look for in the documents; ask about something "
              "they cover.")


def names_nothing(question: str) -> bool:
    """Whether ``question`` holds no word to search for: "what is it?", "???", emoji, a
    lone stopword. Such a question is refused, never answered with whatever line comes
    closest."""
    return not terms(question)


def _vague(question: str, backend: str) -> Answer:
    return Answer(question=question, text=VAGUE_TEXT, refused=True, citations=[],
                  backend=backend)


def checked_question(question: str) -> str:
    """``question`` with its blanks collapsed; ``QuestionError`` if it is not usable."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be a str, got {type(question).__name__}")
    if not question.strip():
        raise QuestionError("the question is empty")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8, smuggled in as surrogates
        raise QuestionError("the question is not valid UTF-8 text") from None
    question = " ".join(question.split())
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    return question


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns
