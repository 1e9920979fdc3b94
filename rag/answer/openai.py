"""An OpenAI-compatible chat-completions endpoint as a ``ChatModel``: OpenAI itself,
vLLM, llama.cpp's server, Ollama... through the official ``openai`` SDK.

Sampling is pinned (temperature 0, top_p 1, a fixed seed, no penalties) so a recorded
exchange replays. Timeouts are always set; 429 and 5xx answers and dropped connections
are retried with exponential backoff (honouring ``Retry-After``) within a total wait
budget; everything else becomes one ``LLMError`` with the endpoint's message. The SDK is
imported only when this backend is used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx

from rag.errors import LLMError
from rag.settings import Settings

__all__ = ["SAMPLING", "OpenAIChat"]

SAMPLING: dict[str, Any] = {
    "temperature": 0.0,
    "top_p": 1.0,
    "seed": 0,
    "max_tokens": 400,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
}
_MAX_WAIT_S = 30.0  # total backoff budget across retries of one request


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

    def complete(self, messages: list[dict[str, str]]) -> str:
        response = self._with_retries(
            lambda: self._client.chat.completions.create(
                model=self.model, messages=messages,  # type: ignore[arg-type]
                extra_body=self.extra or None, **SAMPLING,
            )
        )
        choices = getattr(response, "choices", None)
        if not choices:
            raise LLMError(f"{self._where()} returned no choices", raw=_raw(response))
        content = choices[0].message.content
        if not isinstance(content, str):
            raise LLMError(f"{self._where()} returned no text", raw=_raw(response))
        return content

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        chunks = self._with_retries(
            lambda: self._client.chat.completions.create(
                model=self.model, messages=messages, stream=True,  # type: ignore[arg-type]
                extra_body=self.extra or None, **SAMPLING,
            )
        )
        try:
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except self._openai.APIError as exc:
            raise LLMError(f"{self._where()}: the stream broke: {exc}") from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"{self._where()}: the stream broke: {exc}") from exc

    def _with_retries(self, call: Callable[[], Any]) -> Any:
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
