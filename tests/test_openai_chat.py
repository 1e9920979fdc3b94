"""The OpenAI-compatible adapter's edge cases, over ``httpx2.MockTransport`` (the HTTP
layer the openai SDK uses): retries, timeouts, bad answers, clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx2
import pytest

from rag.answer.llm.openai import SAMPLING, OpenAIChat
from rag.answer.llm_options import OpenAIOptions
from rag.errors import LLMError
from rag.settings import Settings

MESSAGES = [{"role": "user", "content": "Hi"}]


def _completion(text: str) -> dict[str, object]:
    return {
        "id": "c1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
    }


def _chat(
    handler: Callable[[httpx2.Request], httpx2.Response], sleeps: list[float] | None = None
) -> OpenAIChat:
    settings = Settings(timeout_s=5, options={"base_url": "http://llm.test/v1", "model": "m",
                                              "max_retries": 3})
    recorded = sleeps if sleeps is not None else []
    return OpenAIChat(settings, transport=httpx2.MockTransport(handler), sleep=recorded.append)


def test_sampling_is_pinned_in_the_request() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        return httpx2.Response(200, json=_completion("ok"))

    assert _chat(handler).complete(MESSAGES) == "ok"
    body = seen[0]
    assert body["model"] == "m"
    assert body["messages"] == MESSAGES
    assert {k: body[k] for k in SAMPLING} == SAMPLING


def test_429_is_retried_after_the_retry_after_header() -> None:
    replies = [httpx2.Response(429, headers={"retry-after": "2"}, json={"error": {}}),
               httpx2.Response(200, json=_completion("fine"))]
    sleeps: list[float] = []
    assert _chat(lambda r: replies.pop(0), sleeps).complete(MESSAGES) == "fine"
    assert sleeps == [2.0]


def test_5xx_is_retried_with_backoff_then_fails_clearly() -> None:
    sleeps: list[float] = []
    chat = _chat(lambda r: httpx2.Response(500, json={"error": {"message": "boom"}}), sleeps)
    with pytest.raises(LLMError, match="failed after 4 tries: boom"):
        chat.complete(MESSAGES)
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_retry_after_beyond_the_deadline_fails_at_once_saying_so() -> None:
    sleeps: list[float] = []
    chat = _chat(lambda r: httpx2.Response(429, headers={"retry-after": "3600"},
                                           json={"error": {"message": "slow down"}}), sleeps)
    with pytest.raises(LLMError, match="asks to wait 3600 s, longer than the 5 s RAG_TIMEOUT"):
        chat.complete(MESSAGES)
    assert sleeps == []


def test_one_try_is_one_try() -> None:
    settings = Settings(timeout_s=5, options={"base_url": "http://llm.test/v1", "model": "m",
                                              "max_retries": 0})
    chat = OpenAIChat(settings, transport=httpx2.MockTransport(
        lambda r: httpx2.Response(500, json={"error": {"message": "boom"}})))
    with pytest.raises(LLMError, match="failed after 1 try: boom"):
        chat.complete(MESSAGES)


def test_a_timeout_is_an_llm_error_not_a_hang() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    with pytest.raises(LLMError, match=r"no complete answer within 5 s \(RAG_TIMEOUT; 4 tries\)"):
        _chat(handler).complete(MESSAGES)


def test_malformed_json_is_an_llm_error() -> None:
    chat = _chat(lambda r: httpx2.Response(
        200, content=b"{not json", headers={"content-type": "application/json"}
    ))
    with pytest.raises(LLMError, match="malformed"):
        chat.complete(MESSAGES)


def test_empty_choices_is_an_llm_error() -> None:
    body = _completion("x") | {"choices": []}
    with pytest.raises(LLMError, match="no choices"):
        _chat(lambda r: httpx2.Response(200, json=body)).complete(MESSAGES)


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "rejected the API key"), (404, "has no model 'm'"), (400, "answered 400: bad")],
)
def test_client_errors_are_one_clear_line(status: int, message: str) -> None:
    calls: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        return httpx2.Response(status, json={"error": {"message": "bad"}})

    with pytest.raises(LLMError, match=message):
        _chat(handler).complete(MESSAGES)
    assert len(calls) == 1  # never retried


def test_no_key_and_no_url_is_a_clear_error() -> None:
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        OpenAIChat(Settings(backend="openai"))


def test_stream_yields_the_tokens() -> None:
    events = [
        {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        for piece in ("Egypt ", "bought ", "500.")
    ]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    chat = _chat(lambda r: httpx2.Response(
        200, content=body.encode(), headers={"content-type": "text/event-stream"}
    ))
    assert "".join(chat.stream(MESSAGES)) == "Egypt bought 500."


def test_extra_sampling_fields_reach_servers_that_take_them() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        return httpx2.Response(200, json=_completion("ok"))

    settings = Settings.from_env(
        {"OPENAI_BASE_URL": "http://llm.test/v1", "RAG_LLM_EXTRA": '{"repeat_penalty": 1.0}'}
    )
    chat = OpenAIChat(settings, transport=httpx2.MockTransport(handler))
    chat.complete(MESSAGES)
    assert seen[0]["repeat_penalty"] == 1.0


def test_extra_sampling_fields_must_be_a_json_object() -> None:
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="RAG_LLM_EXTRA"):
        OpenAIOptions.of(Settings.from_env({"RAG_LLM_EXTRA": "[1, 2]"}))


@pytest.mark.parametrize("field", ["messages", "model", "stream", "response_format"])
def test_extra_fields_cannot_replace_what_rag_sends(field: str) -> None:
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match=f"RAG_LLM_EXTRA cannot set {field}"):
        OpenAIOptions.of(
            Settings.from_env({"RAG_LLM_EXTRA": json.dumps({field: "x", "top_k": 40})}))
