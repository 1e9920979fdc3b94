"""The openai backend end to end over HTTP recorded from a real OpenAI-compatible server:
the local model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) under llama.cpp's server from
xllamacpp (`rag local serve`), asked for structured answers. Replayed with record mode
``none`` and sockets blocked; re-record against any endpoint:

    RAG_RECORD=all OPENAI_BASE_URL=http://127.0.0.1:8765/v1 RAG_TIMEOUT=600 \\
        .venv/bin/python -m pytest tests/test_recorded.py --force-enable-socket

What these tests check is that the real HTTP path runs, plain and streamed, and that
nothing unverified comes out of what a real model wrote.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from rag.engine import Engine
from rag.evaluation.cassettes import (
    PROVENANCE_PREFIX,
    SCRUBBED_HEADERS,
    endpoint_provenance,
    record_mode,
    recorder,
)
from rag.local.model import MODEL_ALIAS, MODEL_SHA256
from rag.local.options import LocalOptions
from rag.settings import Settings
from rag.types import Answer
from tests.trust import assert_trustworthy

CASSETTES = Path(__file__).resolve().parent / "cassettes"
EVAL_CASSETTES = Path(__file__).resolve().parent.parent / "evals" / "cassettes"
QUESTIONS = [
    "How many T-90 tanks did Egypt buy in July?",
    "Who stood with Putin on stage at the arms fair?",
    "How many T-90 tanks did Algeria buy?",
]
BASE_URL = os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8765/v1"
MODEL = os.environ.get("RAG_MODEL") or MODEL_ALIAS


def _recorder() -> object:
    """The tests' recorder; when recording, every response says which model wrote it."""
    provenance = None
    if record_mode() != "none":
        provenance = endpoint_provenance(BASE_URL, MODEL,
                                         LocalOptions.of(Settings.from_env()).model_dir)
    return recorder(CASSETTES, provenance=provenance)


@pytest.mark.parametrize("number", range(len(QUESTIONS)))
def test_recorded_answers_are_verified(seeds_engine: Engine, number: int) -> None:
    with _recorder().use_cassette(f"seeds-openai-{number}.yaml") as cassette:  # type: ignore[attr-defined]
        answer = seeds_engine.ask(
            QUESTIONS[number], backend="openai", base_url=BASE_URL, model=MODEL
        )
    assert cassette.play_count + len(cassette.data) >= 1  # the HTTP path really ran
    assert answer.verification is not None
    assert_trustworthy(seeds_engine, answer)


def test_the_model_answers_egypt_and_is_refused_for_algeria(seeds_engine: Engine) -> None:
    """What the recorded model wrote, through the checks: its own answer for Egypt, and
    no figure for Algeria, whose line gives none (the 450 is India's)."""
    with _recorder().use_cassette("seeds-openai-0.yaml"):  # type: ignore[attr-defined]
        egypt = seeds_engine.ask(QUESTIONS[0], backend="openai", base_url=BASE_URL, model=MODEL)
    assert egypt.verification is not None
    assert not egypt.verification.fell_back
    assert "500" in egypt.text
    with _recorder().use_cassette("seeds-openai-2.yaml"):  # type: ignore[attr-defined]
        algeria = seeds_engine.ask(QUESTIONS[2], backend="openai", base_url=BASE_URL, model=MODEL)
    assert algeria.refused
    assert "450" not in algeria.text


def test_recorded_stream_gives_the_same_answer(seeds_engine: Engine) -> None:
    with _recorder().use_cassette("seeds-openai-stream.yaml"):  # type: ignore[attr-defined]
        events = list(seeds_engine.ask_stream(
            QUESTIONS[0], backend="openai", base_url=BASE_URL, model=MODEL
        ))
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert any(isinstance(e, str) for e in events)  # text arrived as it was written
    assert_trustworthy(seeds_engine, answer)


def test_cassettes_hold_no_secrets_and_say_which_model_wrote_them() -> None:
    files = sorted([*CASSETTES.glob("*.yaml"), *EVAL_CASSETTES.glob("*.yaml")])
    assert files, "no cassettes recorded"
    for path in files:
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            for part in ("request", "response"):
                names = {n.lower() for n in interaction[part].get("headers", {})}
                assert not names & set(SCRUBBED_HEADERS), (path.name, part, names)
            headers = interaction["response"]["headers"]
            assert headers[f"{PROVENANCE_PREFIX}model"] == [MODEL_ALIAS], path.name
            assert headers[f"{PROVENANCE_PREFIX}model-sha256"] == [MODEL_SHA256], path.name
