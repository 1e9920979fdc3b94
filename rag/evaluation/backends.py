"""The answerers ``rag eval`` compares: extractive (live), openai and the LlamaIndex
CitationQueryEngine baseline (both over recorded HTTP), and any registered backend by
name (see runner.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.answer.base import Draft, DraftCitation
from rag.answer.llm_options import OpenAIOptions
from rag.engine import Engine, resolve_draft
from rag.evaluation.cassettes import recorder
from rag.evaluation.dataset import EvalItem
from rag.evaluation.runner import Answerer, NotRecorded
from rag.settings import Settings
from rag.types import Answer

__all__ = [
    "Replayed",
    "backend_answerer",
    "baseline_answerer",
    "extractive_answerer",
    "openai_answerer",
    "recorded",
]

_QUESTION_LINE = re.compile(r"(?:Question|Query):\s*(.*)")


def extractive_answerer(engine: Engine, top_k: int) -> Answerer:
    return lambda item: engine.ask(item.question, top_k=top_k, backend="extractive")


def backend_answerer(engine: Engine, name: str, top_k: int) -> Answerer:
    """Any registered backend (a plugin), as ``rag ask --backend NAME`` runs it."""
    return lambda item: engine.ask(item.question, top_k=top_k, backend=name)


def openai_answerer(engine: Engine, settings: Settings, top_k: int) -> Answerer:
    """The openai backend at the endpoint and model ``settings`` give."""
    endpoint = OpenAIOptions.of(settings)
    return lambda item: engine.ask(
        item.question, top_k=top_k, backend="openai", model=endpoint.model,
        base_url=endpoint.base_url,
    )


def baseline_answerer(engine: Engine, settings: Settings, top_k: int) -> Answerer:
    """LlamaIndex's CitationQueryEngine over rag's retriever and the same endpoint."""
    from llama_index.core.query_engine import CitationQueryEngine

    from rag.answer.llm.openai import OpenAIChat
    from rag.integrations.llama_index import RagRetriever, chat_as_llama_llm

    query_engine = CitationQueryEngine.from_args(
        index=None,  # type: ignore[arg-type]
        retriever=RagRetriever(engine, top_k),
        llm=chat_as_llama_llm(OpenAIChat(settings)),
    )

    def answer(item: EvalItem) -> Answer:
        response = query_engine.query(item.question)
        return _as_answer(engine, item.question, str(response), response.source_nodes)

    return answer


def _as_answer(engine: Engine, question: str, text: str, nodes: list[Any]) -> Answer:
    """The baseline's ``[n]`` markers mapped to the lines of its n-th source node.
    Markers that point at no node are dropped; an answer with no valid marker left counts
    as a refusal (the engine has no other way to say it cannot answer)."""
    numbers: dict[int, int] = {}
    citations: list[DraftCitation] = []

    def renumber(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if not 1 <= n <= len(nodes):
            return ""
        if n not in numbers:
            meta = nodes[n - 1].node.metadata
            citations.append(DraftCitation(meta["source"], meta["start_line"], meta["end_line"]))
            numbers[n] = len(citations)
        return f"[{numbers[n]}]"

    mapped = re.sub(r"\[(\d+)\]", renumber, text).strip()
    if not citations:
        return resolve_draft(question, Draft.refusal(mapped or "(empty)"), "baseline",
                             engine.corpus_root)
    return resolve_draft(question, Draft(mapped, citations), "baseline", engine.corpus_root)


class Replayed:
    """``answerer`` with each item's HTTP replayed from (or, with ``record``, added to) the
    cassette ``name``: recording saves after every item, so a long recording can be
    stopped and resumed; replaying an item that was never recorded raises NotRecorded.
    ``seconds[item id]`` is the time the server reported spending on the item's requests
    (llama.cpp's ``timings``), as recorded."""

    def __init__(
        self, answerer: Answerer, folder: Path, name: str, record: bool,
        provenance: dict[str, str] | None = None,
    ) -> None:
        self.answerer = answerer
        self.folder = folder
        self.name = name
        self.record = record
        self.provenance = provenance
        self.seconds: dict[str, float] = {}

    def __call__(self, item: EvalItem) -> Answer:
        from vcr.errors import CannotOverwriteExistingCassetteException

        if not self.record and not (self.folder / self.name).exists():
            raise NotRecorded(item.id)
        try:
            with recorded(self.folder, self.name, self.record, self.provenance) as cassette:
                known, played = len(cassette.data), dict(cassette.play_counts)
                answer = self.answerer(item)
                used = [i for i in range(len(cassette.data))
                        if i >= known or cassette.play_counts[i] > played.get(i, 0)]
        except CannotOverwriteExistingCassetteException as exc:
            raise NotRecorded(item.id) from exc
        seconds = [_server_seconds(cassette.data[i][1]) for i in used]
        if seconds and all(s is not None for s in seconds):
            self.seconds[item.id] = sum(s for s in seconds if s is not None)
        return answer


@contextmanager
def recorded(
    folder: Path, name: str, record: bool, provenance: dict[str, str] | None = None
) -> Iterator[Any]:
    """Replay the HTTP of an eval run, or with ``record`` add what is not recorded yet."""
    machine = recorder(
        folder, "new_episodes" if record else "none", ("question_turn", _same_question_turn),
        provenance,
    )
    with machine.use_cassette(name) as cassette:
        yield cassette


def _server_seconds(response: dict[str, Any]) -> float | None:
    """The time a llama.cpp server reports for a response (prompt and generation), from
    its ``timings``; None for servers that report none (or a stream, whose body is
    events)."""
    body = response.get("body", {}).get("string", b"")
    try:
        data = json.loads(body.decode() if isinstance(body, bytes) else body)
        timings = data["timings"]
        return (float(timings["prompt_ms"]) + float(timings["predicted_ms"])) / 1000
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _same_question_turn(r1: Any, r2: Any) -> None:
    if _question_turn(r1.body) != _question_turn(r2.body):
        raise AssertionError("another question or turn")


def _question_turn(body: bytes | str | None) -> tuple[object, ...]:
    text = body.decode() if isinstance(body, bytes) else (body or "")
    try:
        data = json.loads(text)
    except ValueError:
        return (text,)
    messages = data.get("messages", [])
    found = _QUESTION_LINE.findall("\n".join(str(m.get("content", "")) for m in messages))
    return (found[-1].strip() if found else None, len(messages), bool(data.get("stream")))
