"""The LLM answer path, whatever the model: prompt, verify, repair once, fall back.

The model is asked for a structured answer where its endpoint takes a JSON schema
(``structured.py``: evidence ids, ``answerable``, sentences each citing ids), and for
text with ``[S1]`` markers where it does not. Whatever it writes, what leaves here is
checked by code:
1. ids the code did not hand out for this question are removed;
2. every sentence must carry an id, the lines its ids point to must support it
   (``rag.verify.sentence_support``: its figures bound to its names among them), and it
   must answer the question asked (``rag.verify.answers_question``); ids it does not need
   are dropped;
3. failing sentences go back to the model once, listed with what failed (as instructor
   does with validation errors); what still fails is dropped;
4. if nothing supported remains, the extractive answer is used, keeping only what answers
   the question, or the answer refuses.
The model's refusal (``"answerable": false``, or the text sentinel) is a refusal. Text in
the documents or the question that tries to change these rules changes nothing: the
checks are code, not prompt.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag.answer.base import AnswerBackend, Draft, DraftCitation
from rag.answer.context import SourceLine, build_context, format_context
from rag.answer.lexicon import WordVectors
from rag.answer.structured import SentenceStream, answer_schema, parse_structured
from rag.corpus import read_lines
from rag.errors import StructuredOutputRejected
from rag.language.placement import Similarity, exact_similarity
from rag.prompts import REFUSAL_SENTINEL, load_template, render
from rag.types import Verification
from rag.verify import ID_MARKERS, answers_question, sentence_support, split_cited, split_marked

if TYPE_CHECKING:
    from rag.retrieval import Retriever

__all__ = [
    "ChatModel",
    "CheckedSentence",
    "Done",
    "LLMBackend",
    "SentenceChecked",
    "StreamEvent",
    "Token",
    "Turn",
    "check_answer",
    "check_sentence",
]

Message = dict[str, str]
Schema = dict[str, Any]


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
class CheckedSentence:
    text: str  # without its id markers
    ids: tuple[str, ...]  # ids handed out for this question that it needs
    invented: tuple[str, ...]  # ids it cites that were never handed out
    problems: tuple[str, ...]  # empty when the sentence passed

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Turn:
    """What one question sends: its messages, the lines behind each id, and the schema
    the answer must follow (None: text with markers)."""

    question: str
    messages: list[Message]
    lines: dict[str, SourceLine]
    schema: Schema | None


def check_sentence(
    sentence: str, cited: Sequence[str], lines: dict[str, SourceLine], question: str = "",
    similar: Similarity = exact_similarity,
) -> CheckedSentence:
    """One sentence and the ids it cites, checked: support by the cited lines, and (given
    the question) that it answers it. A passing sentence keeps only the ids it needs."""
    ids = tuple(dict.fromkeys(i.upper() for i in cited if i.upper() in lines))
    invented = tuple(i for i in cited if i.upper() not in lines)
    if not ids:
        return CheckedSentence(sentence, ids, invented, ("cites no source id" + (
            f" (ids {', '.join(invented)} were never given)" if invented else ""
        ),))
    problems = _problems(sentence, ids, lines, question, similar)
    if not problems:
        for line_id in reversed(ids):
            fewer = tuple(i for i in ids if i != line_id)
            if fewer and not _problems(sentence, fewer, lines, question, similar):
                ids = fewer
    return CheckedSentence(sentence, ids, invented, tuple(problems))


def _problems(
    sentence: str, ids: Sequence[str], lines: dict[str, SourceLine], question: str,
    similar: Similarity,
) -> list[str]:
    quotes = [lines[i].text for i in ids]
    problems = sentence_support(sentence, quotes).reasons
    if not problems and question:
        sources = {lines[i].source for i in ids}
        context = [line.text for line in lines.values()
                   if line.source in sources and line.id not in ids]
        problems = answers_question(question, sentence, quotes, context, similar)
    return problems


def check_answer(
    raw: str, lines: dict[str, SourceLine], question: str = "",
    similar: Similarity = exact_similarity,
) -> tuple[bool, list[CheckedSentence]]:
    """Whether ``raw`` refuses, and each of its sentences checked. ``raw`` is a structured
    answer, or text with ``[S1]`` markers (also what a server that ignored the schema
    wrote)."""
    return _refused(raw), [
        check_sentence(sentence, cited, lines, question, similar)
        for sentence, cited in _sentences(raw)
    ]


def _refused(raw: str) -> bool:
    parsed = parse_structured(raw)
    if parsed is not None:
        return not parsed.answerable
    text = raw.replace(REFUSAL_SENTINEL, " ").strip()
    return REFUSAL_SENTINEL in raw and not ID_MARKERS.search(text)


def _sentences(raw: str) -> list[tuple[str, list[str]]]:
    parsed = parse_structured(raw)
    if parsed is None:
        return split_marked(raw.replace(REFUSAL_SENTINEL, " ").strip(), ID_MARKERS)
    if not parsed.answerable:
        return []
    out = []
    for text, ids in parsed.sentences:
        out.extend(_split_item(text, ids))
    return out


def _split_item(text: str, ids: Sequence[str]) -> list[tuple[str, list[str]]]:
    """One structured sentence item as sentences, each citing the item's ids (and any
    markers the model wrote into the text)."""
    out = []
    for sentence, marked in split_marked(text, ID_MARKERS):
        out.append((sentence, list(dict.fromkeys([*ids, *marked]))))
    return out


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
        self._lexicons: dict[int, WordVectors] = {}

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
        similar = self._similar(retriever)
        events = self._stream_events(turn, similar)
        try:
            first = next(events)  # the request is made here: a rejected schema shows now
        except StructuredOutputRejected:
            turn = self._turn(turn.question, turn.lines, structured=False)
            events = self._stream_events(turn, similar)
            first = next(events)
        raw = ""
        for event in itertools.chain([first], events):
            if isinstance(event, str):
                raw = event  # the whole completion, last
            else:
                yield event
        yield Done(self.finish(turn, retriever, top_k, raw))

    def _stream_events(self, turn: Turn, similar: Similarity) -> Iterator[StreamEvent | str]:
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
                    for part, cited in _split_item(text, ids):
                        yield SentenceChecked(check_sentence(
                            part, cited, turn.lines, turn.question, similar))
            yield "".join(chunks)
            return
        reported = 0
        for piece in self.model.stream(turn.messages, None):
            chunks.append(piece)
            yield Token(piece)
            _, checked = check_answer("".join(chunks), turn.lines, turn.question, similar)
            for sentence in checked[reported : max(reported, len(checked) - 1)]:
                yield SentenceChecked(sentence)  # all but the last sentence have ended
            reported = max(reported, len(checked) - 1)
        raw = "".join(chunks)
        _, checked = check_answer(raw, turn.lines, turn.question, similar)
        for sentence in checked[reported:]:
            yield SentenceChecked(sentence)
        yield raw

    def finish(self, turn: Turn, retriever: Retriever, top_k: int, raw: str) -> Draft:
        """Verify a completion, repair it once if needed, and build the draft."""
        similar = self._similar(retriever)
        refused, checked = check_answer(raw, turn.lines, turn.question, similar)
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
            refused_again, rechecked = check_answer(raw_again, turn.lines, turn.question, similar)
            if refused_again and not any(c.passed for c in checked):
                return Draft.refusal(verification=Verification(
                    dropped=_dropped(failed), repaired=True
                ))
            if not refused_again:
                checked = rechecked
        kept = [c for c in checked if c.passed]
        dropped = _dropped([c for c in checked if not c.passed])
        if not kept:
            return self._fall_back(turn, retriever, top_k, dropped, repaired, similar)
        return _compose(kept, turn.lines, Verification(dropped=dropped, repaired=repaired))

    def _repair_request(self, turn: Turn, failed: list[CheckedSentence]) -> str:
        if turn.schema is not None:
            return render(self._template("structured_repair"), failures=_describe(failed))
        return render(self._template("repair"), failures=_describe(failed),
                      refusal=REFUSAL_SENTINEL)

    def _fall_back(
        self, turn: Turn, retriever: Retriever, top_k: int, dropped: list[str],
        repaired: bool, similar: Similarity,
    ) -> Draft:
        """The fallback backend's answer, less what does not answer the question."""
        verification = Verification(dropped=dropped, repaired=repaired, fell_back=True)
        if self.fallback is None:
            return Draft.refusal(verification=verification)
        draft = self.fallback.answer(turn.question, retriever, top_k)
        if draft.refused:
            return Draft(draft.text, draft.citations, True, verification)
        answering = _answering(turn, draft, similar)
        if answering is None:
            return Draft.refusal(verification=verification)
        return Draft(answering.text, answering.citations, False, verification)

    def _similar(self, retriever: Retriever) -> Similarity:
        """Word similarity from the retriever's embedder: "troops" near "soldiers"."""
        key = id(retriever.embedder)
        if key not in self._lexicons:
            self._lexicons[key] = WordVectors(retriever.embedder)
        return self._lexicons[key].best

    def _template(self, name: str) -> str:
        return load_template(name, self.prompts_dir)


def _answering(turn: Turn, draft: Draft, similar: Similarity) -> Draft | None:
    """The sentences of another backend's draft that answer the question, renumbered;
    None when none does. The turn's lines of the same files are their context."""
    kept: list[tuple[str, list[int]]] = []
    for sentence, numbers in split_cited(draft.text):
        cited = [draft.citations[n - 1] for n in numbers if 0 < n <= len(draft.citations)]
        quotes = [" ".join(c.evidence) for c in cited]
        sources = {c.source for c in cited}
        context = [line.text for line in turn.lines.values() if line.source in sources]
        if quotes and not answers_question(turn.question, sentence, quotes, context, similar):
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
    return [f"{c.text} ({'; '.join(c.problems)})" for c in failed]


def _compose(
    kept: list[CheckedSentence], lines: dict[str, SourceLine], verification: Verification
) -> Draft:
    """Renumber ids to citation markers [1], [2]... in order of first use."""
    numbers: dict[str, int] = {}
    citations: list[DraftCitation] = []
    parts = []
    for sentence in kept:
        markers = []
        for line_id in sentence.ids:
            if line_id not in numbers:
                line = lines[line_id]
                citations.append(DraftCitation(line.source, line.line, line.line, (line.text,)))
                numbers[line_id] = len(citations)
            markers.append(f"[{numbers[line_id]}]")
        parts.append(f"{sentence.text} {''.join(markers)}")
    return Draft(text=" ".join(parts), citations=citations, verification=verification)
