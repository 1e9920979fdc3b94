"""Structured answers: a JSON schema the model's output must follow, and reading it back,
whole or as it streams.

The schema asks first for the evidence (ids of the lines that state the answer), then
whether the question is answerable, then the sentences, each citing one or more ids;
every id is one of those handed out for this question (an ``enum``), so a server that
enforces the schema (OpenAI, vLLM, llama.cpp's server, Ollama) cannot emit an invented
one. Nothing here trusts the output: the sentences are checked like any other
(``rag.answer.llm``), and text that is not the expected JSON is read as free text with
``[S1]`` markers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["SentenceStream", "StructuredAnswer", "answer_schema", "parse_structured"]

SCHEMA_NAME = "cited_answer"


@dataclass(frozen=True)
class StructuredAnswer:
    evidence: tuple[str, ...]
    answerable: bool
    sentences: tuple[tuple[str, tuple[str, ...]], ...]  # (text, cited ids)


def answer_schema(ids: Sequence[str]) -> dict[str, Any]:
    """The ``response_format`` for an answer citing only ``ids``."""
    cited: dict[str, Any] = {"type": "array", "items": {"type": "string", "enum": list(ids)}}
    schema = {
        "type": "object",
        "properties": {
            "evidence": {**cited, "maxItems": 4},
            "answerable": {"type": "boolean"},
            "sentences": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"text": {"type": "string"}, "cites": {**cited, "minItems": 1}},
                    "required": ["text", "cites"],
                    "additionalProperties": False,
                },
                "maxItems": 3,
            },
        },
        "required": ["evidence", "answerable", "sentences"],
        "additionalProperties": False,
    }
    return {"type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": schema}}


def parse_structured(raw: str) -> StructuredAnswer | None:
    """The answer in ``raw``, or None when ``raw`` is not an answer object (a server that
    ignored the schema): the caller then reads it as text."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sentences"), list):
        return None
    sentences = tuple(s for item in data["sentences"] if (s := _sentence(item)) is not None)
    evidence = data.get("evidence")
    return StructuredAnswer(
        evidence=tuple(str(i) for i in evidence) if isinstance(evidence, list) else (),
        answerable=data.get("answerable") is not False,
        sentences=sentences,
    )


def _sentence(item: object) -> tuple[str, tuple[str, ...]] | None:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return None
    cites = item.get("cites")
    ids = tuple(str(i) for i in cites) if isinstance(cites, list) else ()
    return item["text"], ids


class SentenceStream:
    """Reads a structured answer as it streams: ``feed`` takes the next piece and returns
    the sentence objects that piece completed, and the text of the sentences' ``"text"``
    strings it added, one space between sentences (for a terminal to show). One pass over
    the characters, whatever the length."""

    def __init__(self) -> None:
        self._stack: list[str] = []  # the open "{" and "["
        self._in_string = False
        self._escape = ""  # an escape being read: "\\", or "\\u" and its hex digits
        self._key: str | None = None  # the last key read
        self._string: list[str] = []  # the string being read
        self._string_is_key = False
        self._expect_key = False
        self._in_sentences = False
        self._sentence: list[str] | None = None  # the raw text of the open sentence object
        self._shown = 0  # sentence texts shown so far
        self._fresh = False  # a sentence's text has begun and nothing of it is shown yet

    def feed(self, piece: str) -> tuple[list[tuple[str, tuple[str, ...]]], str]:
        done: list[tuple[str, tuple[str, ...]]] = []
        shown = []
        for ch in piece:
            if self._sentence is not None:
                self._sentence.append(ch)
            if self._in_string:
                decoded = self._string_char(ch)
                if decoded and self._showing():
                    if self._fresh:
                        shown.append(" " if self._shown else "")
                        self._shown += 1
                        self._fresh = False
                    shown.append(decoded)
            else:
                self._structure_char(ch, done)
        return done, "".join(shown)

    def _string_char(self, ch: str) -> str:
        """Read one character inside a string; return what it decodes to, if anything."""
        if self._escape:
            self._escape += ch
            if self._escape.startswith("\\u") and len(self._escape) < 6:
                return ""
            decoded = _decode(self._escape)
            self._escape = ""
        elif ch == "\\":
            self._escape = ch
            return ""
        elif ch == '"':
            self._in_string = False
            if self._string_is_key:
                self._key = "".join(self._string)
            return ""
        else:
            decoded = ch
        if self._string_is_key:
            self._string.append(decoded)
        return decoded

    def _showing(self) -> bool:
        return (self._in_sentences and not self._string_is_key and self._key == "text"
                and len(self._stack) == 3)

    def _structure_char(self, ch: str, done: list[tuple[str, tuple[str, ...]]]) -> None:
        if ch == '"':
            self._in_string, self._string = True, []
            self._string_is_key = self._stack[-1:] == ["{"] and self._expect_key
            self._fresh = self._showing()
        elif ch in "{[":
            if ch == "{" and self._in_sentences and len(self._stack) == 2:
                self._sentence = [ch]
            if ch == "[" and len(self._stack) == 1 and self._key == "sentences":
                self._in_sentences = True
            self._stack.append(ch)
            self._expect_key = ch == "{"
        elif ch in "}]":
            if self._stack:
                self._stack.pop()
            if ch == "}" and self._sentence is not None and len(self._stack) == 2:
                found = _sentence(_loads("".join(self._sentence)))
                if found is not None:
                    done.append(found)
                self._sentence = None
            if ch == "]" and len(self._stack) == 1:
                self._in_sentences = False
            self._expect_key = False
        elif ch == ",":
            self._expect_key = self._stack[-1:] == ["{"]
        elif ch == ":":
            self._expect_key = False


def _decode(escape: str) -> str:
    """A JSON escape as the character it stands for ("\\n", "\\u00e9")."""
    decoded = _loads(f'"{escape}"')
    return decoded if isinstance(decoded, str) else ""


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def iter_sentences(pieces: Iterator[str]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every sentence object of a streamed structured answer, as soon as it closes."""
    reader = SentenceStream()
    for piece in pieces:
        yield from reader.feed(piece)[0]
