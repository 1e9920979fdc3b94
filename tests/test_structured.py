"""Structured answers (rag/answer/llm/structured.py): the schema, reading an answer whole,
and reading it as it streams, whatever the pieces."""

from __future__ import annotations

import json

import pytest

from rag.answer.llm.structured import SentenceStream, answer_schema, parse_structured

ANSWER = {
    "evidence": ["S1", "S3"],
    "answerable": True,
    "sentences": [
        {"text": 'Egypt bought 500 "T-90" tanks, caf\u00e9 {not} [a] list.', "cites": ["S1"]},
        {"text": "India bought 450.\nA second line.", "cites": ["S3", "S1"]},
    ],
}


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_streamed_sentences_are_the_whole_answers(size: int, ascii_only: bool) -> None:
    raw = json.dumps(ANSWER, ensure_ascii=ascii_only, indent=1)
    reader = SentenceStream()
    found, shown = [], ""
    for start in range(0, len(raw), size):
        done, text = reader.feed(raw[start : start + size])
        found += done
        shown += text
    whole = parse_structured(raw)
    assert whole is not None
    assert tuple(found) == whole.sentences
    assert shown == " ".join(s["text"] for s in ANSWER["sentences"])


def test_keys_named_text_elsewhere_are_not_shown() -> None:
    raw = json.dumps({"evidence": ["text"], "text": "no", "answerable": True,
                      "sentences": [{"cites": ["S1"], "text": "yes"}]})
    done, shown = SentenceStream().feed(raw)
    assert shown == "yes"
    assert done == [("yes", ("S1",))]


@pytest.mark.parametrize("raw", ["Egypt bought 500 tanks [S1].", "[1, 2]", '{"answer": 1}', ""])
def test_what_is_not_an_answer_object_is_read_as_text(raw: str) -> None:
    assert parse_structured(raw) is None


def test_not_answerable_unless_it_says_so() -> None:
    parsed = parse_structured('{"evidence": [], "answerable": false, "sentences": []}')
    assert parsed is not None
    assert not parsed.answerable


def test_the_schema_allows_only_the_ids_handed_out() -> None:
    schema = answer_schema(["S1", "S2"])["json_schema"]["schema"]
    sentence = schema["properties"]["sentences"]["items"]
    assert sentence["properties"]["cites"]["items"]["enum"] == ["S1", "S2"]
    assert sentence["properties"]["cites"]["minItems"] == 1
    assert list(schema["properties"]) == ["evidence", "answerable", "sentences"]
    assert schema["required"] == ["evidence", "answerable", "sentences"]
