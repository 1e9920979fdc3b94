"""An OpenAI-compatible chat-completions endpoint as a ``ChatModel``: OpenAI itself,
vLLM, llama.cpp's server, Ollama... through the official ``openai`` SDK.

Sampling is pinned (temperature 0, top_p 1, a fixed seed, no penalties) so a recorded
exchange replays. Timeouts are always set; 429 and 5xx answers and dropped connections
are retried with exponential backoff (honouring ``Retry-After``) within a total wait
budget; everything else becomes one ``LLMError`` with the endpoint's message. A
completion longer than ``MAX_COMPLETION_CHARS`` is an error, not something to wait for.

Structured answers: ``complete(messages, schema)`` sends the schema as
``response_format``. An endpoint that answers 400/422 about it raises
``StructuredOutputRejected`` once; the endpoint and model are remembered for the process,
so ``structured`` is False from then on and no request carries a schema again. The SDK is
imported only when this backend is used.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx

from rag.errors import LLMError, StructuredOutputRejected
from rag.settings import Settings

__all__ = ["MAX_COMPLETION_CHARS", "SAMPLING", "OpenAIChat"]

SAMPLING: dict[str, Any] = {
    "temperature": 0.0,
    "top_p": 1.0,
    "seed": 0,
    "max_tokens": 400,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
}
_MAX_WAIT_S = 30.0  # total backoff budget across retries of one request
MAX_COMPLETION_CHARS = 100_000  # 400 tokens are about 2,000 characters
# What a server says when it does not take a JSON schema in response_format.
_SCHEMA_WORDS = re.compile(r"response_format|json_schema|schema|grammar|structured", re.I)
_rejecting: set[tuple[str, str]] = set()  # (base URL, model) that rejected a schema
_rejecting_lock = threading.Lock()


class OpenAIChat:
    """``complete`` and ``stream`` against one endpoint and model."""

    def __init__(
        self,
        settings: Settings,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import openai

        if not settings.api_key and not settings.base_url:
            raise LLMError(
                "no API key: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server"
            )
        self.model = settings.model
        self.ask_structured = settings.structured
        self.max_retries = settings.max_retries
        self.extra = dict(settings.llm_extra)
        self._sleep = sleep
        self._openai = openai
        self._client = openai.OpenAI(
            api_key=settings.api_key or "unused-by-local-servers",
            base_url=settings.base_url,
            timeout=settings.timeout_s,
            max_retries=0,  # retried here, within a budget, with a clear error at the end
            http_client=http_client,
        )

    @property
    def structured(self) -> bool:
        """Whether to ask for structured answers: unless turned off, or rejected once."""
        with _rejecting_lock:
            return self.ask_structured and self._endpoint() not in _rejecting

    def complete(
        self, messages: list[dict[str, str]], schema: dict[str, Any] | None = None
    ) -> str:
        response = self._with_retries(
            lambda: self._client.chat.completions.create(
                model=self.model, messages=messages,  # type: ignore[arg-type]
                extra_body=self.extra or None, **self._format(schema), **SAMPLING,
            ),
            schema,
        )
        choices = getattr(response, "choices", None)
        if not choices:
            raise LLMError(f"{self._where()} returned no choices", raw=_raw(response))
        content = choices[0].message.content
        if not isinstance(content, str):
            raise LLMError(f"{self._where()} returned no text", raw=_raw(response))
        if len(content) > MAX_COMPLETION_CHARS:
            raise LLMError(self._too_long())
        return content

    def stream(
        self, messages: list[dict[str, str]], schema: dict[str, Any] | None = None
    ) -> Iterator[str]:
        chunks = self._with_retries(
            lambda: self._client.chat.completions.create(
                model=self.model, messages=messages, stream=True,  # type: ignore[arg-type]
                extra_body=self.extra or None, **self._format(schema), **SAMPLING,
            ),
            schema,
        )
        received = 0
        try:
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    piece = chunk.choices[0].delta.content
                    received += len(piece)
                    if received > MAX_COMPLETION_CHARS:
                        raise LLMError(self._too_long())
                    yield piece
        except self._openai.APIError as exc:
            raise LLMError(f"{self._where()}: the stream broke: {exc}") from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"{self._where()}: the stream broke: {exc}") from exc

    def _format(self, schema: dict[str, Any] | None) -> dict[str, Any]:
        return {"response_format": schema} if schema is not None else {}

    def _endpoint(self) -> tuple[str, str]:
        return str(self._client.base_url), self.model

    def _too_long(self) -> str:
        return (f"{self._where()} sent a completion longer than {MAX_COMPLETION_CHARS} "
                "characters; stopped reading it")

    def _with_retries(self, call: Callable[[], Any], schema: dict[str, Any] | None = None) -> Any:
        openai = self._openai
        waited = 0.0
        for attempt in range(self.max_retries + 1):
            try:
                return call()
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                error: Exception = exc
                delay = _retry_after(exc.response) or 0.5 * 2**attempt
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                error, delay = exc, 0.5 * 2**attempt
            except openai.AuthenticationError as exc:
                raise LLMError(f"{self._where()} rejected the API key") from exc
            except openai.NotFoundError as exc:
                raise LLMError(
                    f"{self._where()} has no model {self.model!r} (or the URL is wrong)"
                ) from exc
            except openai.APIStatusError as exc:
                if schema is not None and exc.status_code in (400, 422) and _SCHEMA_WORDS.search(
                    _message(exc)
                ):
                    with _rejecting_lock:
                        _rejecting.add(self._endpoint())
                    raise StructuredOutputRejected(
                        f"{self._where()} does not take a JSON schema: {_message(exc)}"
                    ) from exc
                raise LLMError(
                    f"{self._where()} answered {exc.status_code}: {_message(exc)}",
                    raw=exc.response.text,
                ) from exc
            except openai.APIResponseValidationError as exc:
                raise LLMError(f"{self._where()} sent a malformed response") from exc
            except ValueError as exc:  # a body that is not JSON
                raise LLMError(f"{self._where()} sent a malformed response: {exc}") from exc
            if attempt == self.max_retries or waited + delay > _MAX_WAIT_S:
                break
            self._sleep(delay)
            waited += delay
        raise LLMError(f"{self._where()} failed after {attempt + 1} tries: {_message(error)}")

    def _where(self) -> str:
        return f"the LLM endpoint {self._client.base_url}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _raw(response: Any) -> str | None:
    try:
        return str(response.model_dump_json())
    except AttributeError:
        return None
