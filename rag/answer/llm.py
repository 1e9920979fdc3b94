"""The LLM answer path, whatever the model: prompt, verify, repair once, fall back.

Whatever the model writes, what leaves here is checked by code:
1. ids the code did not hand out for this question are removed;
2. every sentence must carry an id, and the lines its ids point to must support it
   (``rag.verify.sentence_support``);
3. failing sentences go back to the model once, listed with what failed (as instructor
   does with validation errors); what still fails is dropped;
4. if nothing supported remains, the extractive answer is used, or the answer refuses.
The model's refusal sentinel maps to a refusal. Text in the documents or the question
that tries to change these rules changes nothing: the checks are code, not prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rag.answer.base import AnswerBackend, Draft, DraftCitation
from rag.answer.context import SourceLine, build_context, format_context
from rag.corpus import read_lines
from rag.prompts import REFUSAL_SENTINEL, load_template, render
from rag.types import Verification
from rag.verify import ID_MARKERS, sentence_support, split_marked

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
    "check_answer",
]

Message = dict[str, str]


@dataclass(frozen=True)
class Token:
    """A piece of the completion as it arrived."""

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
    """Anything that turns chat messages into a completion (OpenAI, LlamaIndex, a fake)."""

    def complete(self, messages: list[Message]) -> str: ...

    def stream(self, messages: list[Message]) -> Iterator[str]: ...


@dataclass(frozen=True)
class CheckedSentence:
    text: str  # without its id markers
    ids: tuple[str, ...]  # ids handed out for this question that it cites
    invented: tuple[str, ...]  # ids it cites that were never handed out
    problems: tuple[str, ...]  # empty when the sentence passed

    @property
    def passed(self) -> bool:
        return not self.problems


def check_answer(raw: str, lines: dict[str, SourceLine]) -> tuple[bool, list[CheckedSentence]]:
    """Whether ``raw`` is the refusal sentinel, and each of its sentences checked."""
    text = raw.replace(REFUSAL_SENTINEL, " ").strip()
    refused = REFUSAL_SENTINEL in raw and not ID_MARKERS.search(text)
    checked = []
    for sentence, cited in split_marked(text, ID_MARKERS):
        ids = tuple(dict.fromkeys(i.upper() for i in cited if i.upper() in lines))
        invented = tuple(i for i in cited if i.upper() not in lines)
        problems = []
        if not ids:
            problems.append("cites no source id" + (
                f" (ids {', '.join(invented)} were never given)" if invented else ""
            ))
        else:
            support = sentence_support(sentence, [lines[i].text for i in ids])
            problems.extend(support.reasons)
        checked.append(CheckedSentence(sentence, ids, invented, tuple(problems)))
    return refused, checked


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

    def prepare(self, question: str, retriever: Retriever, top_k: int) -> tuple[
        list[Message], dict[str, SourceLine]
    ]:
        """The messages for ``question`` and the lines behind each id."""
        passages = retriever.search(question, top_k)
        lines = build_context(
            passages, lambda s: read_lines(self.corpus_root, s), self.context_tokens
        )
        system = render(self._template("system"), refusal=REFUSAL_SENTINEL)
        user = render(self._template("answer"), context=format_context(lines),
                      question=question)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return messages, {line.id: line for line in lines}

    def answer(self, question: str, retriever: Retriever, top_k: int) -> Draft:
        messages, lines = self.prepare(question, retriever, top_k)
        return self.finish(question, retriever, top_k, messages, lines,
                           self.model.complete(messages))

    def stream(self, question: str, retriever: Retriever, top_k: int) -> Iterator[StreamEvent]:
        """Tokens as they arrive, each sentence checked when it ends, then the draft
        ``answer`` would give for the same completion (``finish`` on the whole text)."""
        messages, lines = self.prepare(question, retriever, top_k)
        raw = ""
        reported = 0
        for piece in self.model.stream(messages):
            raw += piece
            yield Token(piece)
            _, checked = check_answer(raw, lines)
            for sentence in checked[reported : max(reported, len(checked) - 1)]:
                yield SentenceChecked(sentence)  # all but the last sentence have ended
            reported = max(reported, len(checked) - 1)
        _, checked = check_answer(raw, lines)
        for sentence in checked[reported:]:
            yield SentenceChecked(sentence)
        yield Done(self.finish(question, retriever, top_k, messages, lines, raw))

    def finish(
        self,
        question: str,
        retriever: Retriever,
        top_k: int,
        messages: list[Message],
        lines: dict[str, SourceLine],
        raw: str,
    ) -> Draft:
        """Verify a completion, repair it once if needed, and build the draft."""
        refused, checked = check_answer(raw, lines)
        if refused:
            return Draft.refusal(verification=Verification())
        repaired = False
        failed = [c for c in checked if not c.passed]
        if failed:
            repaired = True
            retry = [
                *messages,
                {"role": "assistant", "content": raw},
                {"role": "user", "content": render(
                    self._template("repair"),
                    failures=_describe(failed),
                    refusal=REFUSAL_SENTINEL,
                )},
            ]
            refused_again, rechecked = check_answer(self.model.complete(retry), lines)
            if refused_again and not any(c.passed for c in checked):
                return Draft.refusal(verification=Verification(
                    dropped=_dropped(failed), repaired=True
                ))
            if not refused_again:
                checked = rechecked
        kept = [c for c in checked if c.passed]
        dropped = _dropped([c for c in checked if not c.passed])
        if not kept:
            return self._fall_back(question, retriever, top_k, dropped, repaired)
        return _compose(kept, lines, Verification(dropped=dropped, repaired=repaired))

    def _fall_back(
        self, question: str, retriever: Retriever, top_k: int, dropped: list[str],
        repaired: bool,
    ) -> Draft:
        verification = Verification(dropped=dropped, repaired=repaired, fell_back=True)
        if self.fallback is None:
            return Draft.refusal(verification=verification)
        draft = self.fallback.answer(question, retriever, top_k)
        return Draft(draft.text, draft.citations, draft.refused, verification)

    def _template(self, name: str) -> str:
        return load_template(name, self.prompts_dir)


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

