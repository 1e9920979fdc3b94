"""The LLM answer path, whatever the model: prompt, verify, repair once, fall back.

The model is asked for a structured answer where its endpoint takes a JSON schema
(``structured.py``: evidence ids, ``answerable``, sentences each citing ids), and for
text with ``[S1]`` markers where it does not. Whatever it writes, what leaves here is
checked by code, sentence by sentence (``checking.py``): its lines must support it and it
must answer the question; a claim right on a wrong line is cited to the line that states
it. Failing sentences go back to the model once, listed with what failed (as instructor
does with validation errors); what still fails is dropped. If nothing passes, the
fallback backend's answer is used, keeping only what answers the question, or the answer
refuses.
The model's refusal (``"answerable": false``, or the text sentinel) is a refusal. Text in
the documents or the question that tries to change these rules changes nothing: the
checks are code, not prompt.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag.answer.base import (
    AnswerBackend,
    Done,
    Draft,
    DraftCitation,
    SentenceChecked,
    StreamEvent,
    Token,
)
from rag.answer.lexicon import WordVectors
from rag.answer.llm.checking import CheckedSentence, Checker, split_item
from rag.answer.llm.context import SourceLine, build_context, format_context
from rag.answer.llm.structured import SentenceStream, answer_schema
from rag.corpus import read_lines
from rag.errors import StructuredOutputRejected
from rag.prompts import REFUSAL_SENTINEL, load_template, render
from rag.types import Verification
from rag.verify import split_cited
from rag.verify.markers import literal_brackets

if TYPE_CHECKING:
    from rag.retrieval import Retriever

__all__ = ["ChatModel", "LLMBackend", "Turn"]

Message = dict[str, str]
_ENDED = re.compile(r"[.!?…][\"'”’)]*$")
_BULLET = re.compile(r"^[•·▪‣◦*-]\s+")
Schema = dict[str, Any]


class ChatModel(Protocol):
    """Anything that turns chat messages into a completion (OpenAI, LlamaIndex, a fake).

    ``structured`` says whether to ask it for a structured answer (``schema``, an OpenAI
    ``response_format``); one that rejects the schema raises ``StructuredOutputRejected``
    and is asked again in text."""

    @property
    def structured(self) -> bool: ...

    def complete(self, messages: list[Message], schema: Schema | None = None) -> str: ...

    def stream(self, messages: list[Message], schema: Schema | None = None) -> Iterator[str]: ...


@dataclass(frozen=True)
class Turn:
    """What one question sends: its messages, the lines behind each id, and the schema
    the answer must follow (None: text with markers)."""

    question: str
    messages: list[Message]
    lines: dict[str, SourceLine]
    schema: Schema | None


class LLMBackend:
    """Answers with a chat model; every sentence verified before it is returned."""

    def __init__(
        self,
        model: ChatModel,
        corpus_root: Path,
        name: str = "openai",
        fallback: AnswerBackend | None = None,
        context_tokens: int = 1500,
        prompts_dir: Path | None = None,
    ) -> None:
        self.model = model
        self.corpus_root = corpus_root
        self.name = name
        self.fallback = fallback
        self.context_tokens = context_tokens
        self.prompts_dir = prompts_dir

    def prepare(self, question: str, retriever: Retriever, top_k: int) -> Turn:
        """The messages for ``question``, the lines behind each id, and the schema."""
        passages = retriever.search(question, top_k)
        lines = build_context(
            passages, lambda s: read_lines(self.corpus_root, s), self.context_tokens
        )
        return self._turn(question, {line.id: line for line in lines}, self.model.structured)

    def _turn(self, question: str, lines: dict[str, SourceLine], structured: bool) -> Turn:
        system = (render(self._template("structured_system")) if structured
                  else render(self._template("system"), refusal=REFUSAL_SENTINEL))
        user = render(self._template("answer"), context=format_context(list(lines.values())),
                      question=question)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return Turn(question, messages, lines, answer_schema(list(lines)) if structured else None)

    def answer(self, question: str, retriever: Retriever, top_k: int) -> Draft:
        turn = self.prepare(question, retriever, top_k)
        turn, raw = self._complete(turn)
        return self.finish(turn, retriever, top_k, raw)

    def _complete(self, turn: Turn) -> tuple[Turn, str]:
        """The completion, asked again in text if the endpoint rejects the schema."""
        try:
            return turn, self.model.complete(turn.messages, turn.schema)
        except StructuredOutputRejected:
            turn = self._turn(turn.question, turn.lines, structured=False)
            return turn, self.model.complete(turn.messages, None)

    def stream(self, question: str, retriever: Retriever, top_k: int) -> Iterator[StreamEvent]:
        """The answer's text as it arrives, each sentence checked when it ends, then the
        draft ``answer`` would give for the same completion (``finish`` on the whole)."""
        turn = self.prepare(question, retriever, top_k)
        checker = self.checker(turn, retriever)
        events = self._stream_events(turn, checker)
        try:
            first = next(events)  # the request is made here: a rejected schema shows now
        except StructuredOutputRejected:
            turn = self._turn(turn.question, turn.lines, structured=False)
            events = self._stream_events(turn, checker)
            first = next(events)
        raw = ""
        for event in itertools.chain([first], events):
            if isinstance(event, str):
                raw = event  # the whole completion, last
            else:
                yield event
        yield Done(self.finish(turn, retriever, top_k, raw))

    def _stream_events(self, turn: Turn, checker: Checker) -> Iterator[StreamEvent | str]:
        """Tokens and checked sentences as the completion streams, then the completion."""
        chunks: list[str] = []
        if turn.schema is not None:
            reader = SentenceStream()
            for piece in self.model.stream(turn.messages, turn.schema):
                chunks.append(piece)
                done, shown = reader.feed(piece)
                if shown:
                    yield Token(shown)
                for text, ids in done:
                    for part, cited in split_item(text, ids):
                        yield SentenceChecked(checker.sentence(part, cited))
            yield "".join(chunks)
            return
        reported = 0
        for piece in self.model.stream(turn.messages, None):
            chunks.append(piece)
            yield Token(piece)
            _, checked = checker.answer("".join(chunks))
            for sentence in checked[reported : max(reported, len(checked) - 1)]:
                yield SentenceChecked(sentence)  # all but the last sentence have ended
            reported = max(reported, len(checked) - 1)
        raw = "".join(chunks)
        _, checked = checker.answer(raw)
        for sentence in checked[reported:]:
            yield SentenceChecked(sentence)
        yield raw

    def finish(self, turn: Turn, retriever: Retriever, top_k: int, raw: str) -> Draft:
        """Verify a completion, repair it once if needed, and build the draft."""
        checker = self.checker(turn, retriever)
        refused, checked = checker.answer(raw)
        if refused:
            return Draft.refusal(verification=Verification())
        repaired = False
        failed = [c for c in checked if not c.passed]
        if failed:
            repaired = True
            retry = Turn(turn.question, [
                *turn.messages,
                {"role": "assistant", "content": raw},
                {"role": "user", "content": self._repair_request(turn, failed)},
            ], turn.lines, turn.schema)
            raw_again = self.model.complete(retry.messages, retry.schema)
            refused_again, rechecked = checker.answer(raw_again)
            if refused_again and not any(c.passed for c in checked):
                return Draft.refusal(verification=Verification(
                    dropped=_dropped(failed), repaired=True
                ))
            if not refused_again:  # what passed stands, whether the repair repeats it or not
                again = {c.text for c in rechecked}
                checked = [*(c for c in checked if c.passed and c.text not in again),
                           *rechecked]
        kept = [c for c in checked if c.passed]
        dropped = _dropped([c for c in checked if not c.passed])
        if not kept:
            return self._fall_back(turn, retriever, top_k, dropped, repaired, checker)
        recited = [f"{c.text} (cited {', '.join(c.recited) or 'nothing'}; stated by "
                   f"{', '.join(c.ids)})" for c in kept if c.recited]
        return _compose(kept, turn.lines, Verification(
            dropped=dropped, repaired=repaired, recited=recited))

    def checker(self, turn: Turn, retriever: Retriever) -> Checker:
        """The checks for ``turn``'s question: its lines, word vectors from the
        retriever's embedder ("troops" near "soldiers"), and the corpus's files."""
        return Checker(turn.lines, turn.question, WordVectors.kept(retriever.embedder).best,
                       lambda source: read_lines(self.corpus_root, source))

    def _repair_request(self, turn: Turn, failed: list[CheckedSentence]) -> str:
        if turn.schema is not None:
            return render(self._template("structured_repair"), failures=_describe(failed))
        return render(self._template("repair"), failures=_describe(failed),
                      refusal=REFUSAL_SENTINEL)

    def _fall_back(
        self, turn: Turn, retriever: Retriever, top_k: int, dropped: list[str],
        repaired: bool, checker: Checker,
    ) -> Draft:
        """The fallback backend's answer, less what does not answer the question."""
        verification = Verification(dropped=dropped, repaired=repaired, fell_back=True)
        if self.fallback is None:
            return Draft.refusal(verification=verification)
        draft = self.fallback.answer(turn.question, retriever, top_k)
        if draft.refused:
            return Draft(draft.text, draft.citations, True, verification)
        answering = _answering(draft, checker)
        if answering is None:
            return Draft.refusal(verification=verification)
        return Draft(answering.text, answering.citations, False, verification)

    def _template(self, name: str) -> str:
        return load_template(name, self.prompts_dir)


def _answering(draft: Draft, checker: Checker) -> Draft | None:
    """The sentences of another backend's draft that answer the question, renumbered;
    None when none does."""
    kept: list[tuple[str, list[int]]] = []
    for sentence, numbers in split_cited(draft.text):
        cited = [draft.citations[n - 1] for n in numbers if 0 < n <= len(draft.citations)]
        quotes = [" ".join(c.evidence) for c in cited]
        around = [text for c in cited for text in checker.nearby(c.source, c.start_line)]
        places = [(c.source, c.start_line) for c in cited]
        if quotes and not checker.answering(sentence, quotes, places, around):
            kept.append((sentence, numbers))
    if not kept:
        return None
    renumber: dict[int, int] = {}
    citations: list[DraftCitation] = []
    parts = []
    for sentence, numbers in kept:
        for n in numbers:
            if n not in renumber:
                citations.append(draft.citations[n - 1])
                renumber[n] = len(citations)
        parts.append(f"{sentence} {''.join(f'[{renumber[n]}]' for n in numbers)}")
    return Draft(" ".join(parts), citations, False, draft.verification)


def _describe(failed: list[CheckedSentence]) -> str:
    return "\n".join(f"- \"{c.text}\": {'; '.join(c.problems)}" for c in failed)


def _dropped(failed: list[CheckedSentence]) -> list[str]:
    return [f'"{c.text}" ({"; ".join(c.problems)})' for c in failed]


def _compose(
    kept: list[CheckedSentence], lines: dict[str, SourceLine], verification: Verification
) -> Draft:
    """Renumber ids to citation markers [1], [2]... in order of first use."""
    numbers: dict[str, int] = {}
    citations: list[DraftCitation] = []
    parts = []
    for n, sentence in enumerate(kept):
        text = _BULLET.sub("", literal_brackets(sentence.text))  # a list mark it copied
        if n + 1 < len(kept) and not _ENDED.search(text):
            text += "."  # a headline or bullet: so that it reads as a sentence of its own
        markers = []
        for line_id in sentence.ids:
            line = lines[line_id]
            first, last, evidence = sentence.span(line)
            key = f"{line.source}:{first}-{last}"  # a wrapped sentence cited once
            if key not in numbers:
                citations.append(DraftCitation(line.source, first, last, evidence))
                numbers[key] = len(citations)
            if f"[{numbers[key]}]" not in markers:
                markers.append(f"[{numbers[key]}]")
        parts.append(f"{text} {''.join(markers)}")
    return Draft(text=" ".join(parts), citations=citations, verification=verification)
