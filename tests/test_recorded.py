"""The openai backend end to end over HTTP recorded from a real OpenAI-compatible server
(SmolLM2-135M-Instruct under llama.cpp's server, see scripts/local_llm_server.sh).
Replayed with record mode ``none`` and sockets blocked; re-record against any endpoint:

    RAG_RECORD=all OPENAI_BASE_URL=http://127.0.0.1:8765/v1 .venv/bin/python -m pytest \\
        tests/test_recorded.py --force-enable-socket  # or OpenAI: OPENAI_API_KEY=... RAG_MODEL=...

A 135M model rarely cites correctly, so most of its sentences are dropped: what these
tests check is that the real HTTP path runs and that nothing unverified comes out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from rag.engine import Engine
from rag.evaluation.cassettes import SCRUBBED_HEADERS, recorder
from rag.types import Answer
from tests.trust import assert_trustworthy

CASSETTES = Path(__file__).resolve().parent / "cassettes"
QUESTIONS = [
    "How many T-90 tanks did Egypt buy in July?",
    "Who stood with Putin on stage at the arms fair?",
    "How many T-90 tanks did Algeria buy?",
]
BASE_URL = os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8765/v1"
MODEL = os.environ.get("RAG_MODEL") or "smollm2-135m-instruct"




@pytest.mark.parametrize("number", range(len(QUESTIONS)))
def test_recorded_answers_are_verified(seeds_engine: Engine, number: int) -> None:
    with recorder(CASSETTES).use_cassette(f"seeds-openai-{number}.yaml") as cassette:
        answer = seeds_engine.ask(
            QUESTIONS[number], backend="openai", base_url=BASE_URL, model=MODEL
        )
    assert cassette.play_count + len(cassette.data) >= 1  # the HTTP path really ran
    assert answer.verification is not None
    assert_trustworthy(seeds_engine, answer)


def test_recorded_stream_gives_the_same_answer(seeds_engine: Engine) -> None:
    with recorder(CASSETTES).use_cassette("seeds-openai-stream.yaml"):
        events = list(seeds_engine.ask_stream(
            QUESTIONS[0], backend="openai", base_url=BASE_URL, model=MODEL
        ))
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert any(isinstance(e, str) for e in events)  # tokens arrived one by one
    assert_trustworthy(seeds_engine, answer)


def test_cassettes_hold_no_secrets() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert files, "no cassettes recorded"
    for path in files:
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            for part in ("request", "response"):
                names = {n.lower() for n in interaction[part].get("headers", {})}
                assert not names & set(SCRUBBED_HEADERS), (path.name, part, names)
