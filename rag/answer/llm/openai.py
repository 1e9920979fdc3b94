"""An OpenAI-compatible chat-completions endpoint as a ``ChatModel``: OpenAI itself,
vLLM, llama.cpp's server, Ollama... through the official ``openai`` SDK.

Sampling is pinned (temperature 0, top_p 1, a fixed seed, no penalties) so a recorded
exchange replays. The endpoint, model and the rest are the openai backend's options
(``OpenAIOptions``). ``RAG_TIMEOUT`` (``Settings.timeout_s``) is a deadline for the whole
request: connecting, every retry and its backoff, and reading the answer to the last
byte, however slowly a server drips it. 429 and 5xx answers and dropped connections are
retried with exponential backoff (honouring ``Retry-After``) while the deadline allows;
a server that asks to wait past it fails at once, saying so. Everything else becomes one
``LLMError`` with the endpoint's message. A completion longer than
``MAX_COMPLETION_CHARS`` is an error, not something to wait for.

Structured answers: ``complete(messages, schema)`` sends the schema as
``response_format``. An endpoint that answers 400/422 about it raises
``StructuredOutputRejected`` once; the endpoint and model are remembered for the process,
so ``structured`` is False from then on and no request carries a schema again. The SDK is
imported only when this backend is used.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx

from rag.answer.llm_options import OpenAIOptions
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
MAX_COMPLETION_CHARS = 100_000  # 400 tokens are about 2,000 characters
MAX_RESPONSE_BYTES = 8 * 2**20
"""A response body is read no further than this: a 400-token answer is a few kB even
streamed a token an event, and a body that never ends must not fill the memory."""
# What a server says when it does not take a JSON schema in response_format.
_SCHEMA_WORDS = re.compile(r"response_format|json_schema|schema|grammar|structured", re.I)
_rejecting: set[tuple[str, str]] = set()  # (base URL, model) that rejected a schema
_rejecting_lock = threading.Lock()


class OpenAIChat:
    """``complete`` and ``stream`` against one endpoint and model."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``transport`` (default: real HTTP), ``sleep`` and ``clock`` are for tests."""
        import openai

        options = OpenAIOptions.of(settings)
        if not options.api_key and not options.base_url:
            raise LLMError(
                "no API key: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server"
            )
        self.model = options.model
        self.ask_structured = options.structured
        self.max_retries = options.max_retries
        self.extra = dict(options.llm_extra)
        self.timeout_s = settings.timeout_s
        self._sleep = sleep
        self._clock = clock
        self._openai = openai
        self._deadline = _Deadline(transport or httpx.HTTPTransport())
        self._client = openai.OpenAI(
            api_key=options.api_key or "unused-by-local-servers",
            base_url=options.base_url,
            timeout=settings.timeout_s,
            max_retries=0,  # retried here, within the deadline, with a clear error at the end
            http_client=openai.DefaultHttpxClient(transport=self._deadline),
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
            lambda left: self._client.chat.completions.create(
                model=self.model, messages=messages,  # type: ignore[arg-type]
                extra_body=self.extra or None, timeout=left, **self._format(schema),
                **SAMPLING,
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
            lambda left: self._client.chat.completions.create(
                model=self.model, messages=messages, stream=True,  # type: ignore[arg-type]
                extra_body=self.extra or None, timeout=left, **self._format(schema),
                **SAMPLING,
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
        except (httpx.TimeoutException, self._openai.APITimeoutError) as exc:
            raise LLMError(f"{self._where()} did not finish its answer within "
                           f"{self.timeout_s:g} s (RAG_TIMEOUT)") from exc
        except (self._openai.APIError, httpx.HTTPError) as exc:
            if _cut_off(exc):
                raise LLMError(self._too_large()) from exc
            raise LLMError(f"{self._where()}: the stream broke: {exc}") from exc
        except ValueError as exc:  # an event that is not JSON
            raise LLMError(f"{self._where()} sent a malformed stream: {exc}") from exc

    def _format(self, schema: dict[str, Any] | None) -> dict[str, Any]:
        return {"response_format": schema} if schema is not None else {}

    def _endpoint(self) -> tuple[str, str]:
        return str(self._client.base_url), self.model

    def _too_long(self) -> str:
        return (f"{self._where()} sent a completion longer than {MAX_COMPLETION_CHARS} "
                "characters; stopped reading it")

    def _too_large(self) -> str:
        return (f"{self._where()} sent a response body larger than "
                f"{MAX_RESPONSE_BYTES // 2**20} MiB; stopped reading it")

    def _with_retries(
        self, call: Callable[[float], Any], schema: dict[str, Any] | None = None
    ) -> Any:
        """``call(seconds left)``, retried while the deadline allows."""
        openai = self._openai
        deadline = self._clock() + self.timeout_s
        error: Exception = TimeoutError()
        for attempt in range(self.max_retries + 1):
            left = deadline - self._clock()
            if left <= 0:
                break
            try:
                with self._deadline.until(time.monotonic() + left):
                    return call(left)
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                error = exc
                delay = _retry_after(exc.response) or 0.5 * 2**attempt
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                if _cut_off(exc):  # the same again if asked again
                    raise LLMError(self._too_large()) from exc
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
            left = deadline - self._clock()
            if isinstance(error, openai.RateLimitError) and delay > left:
                raise LLMError(
                    f"{self._where()} is rate limited and asks to wait {delay:g} s, longer "
                    f"than the {self.timeout_s:g} s RAG_TIMEOUT allows"
                ) from error
            if attempt == self.max_retries or delay >= left:
                break
            self._sleep(delay)
        tries = f"{attempt + 1} {'try' if attempt == 0 else 'tries'}"
        if isinstance(error, openai.APITimeoutError | TimeoutError):
            raise LLMError(
                f"{self._where()} gave no complete answer within {self.timeout_s:g} s "
                f"(RAG_TIMEOUT; {tries})"
            )
        raise LLMError(f"{self._where()} failed after {tries}: {_message(error)}")

    def _where(self) -> str:
        return f"the LLM endpoint {self._client.base_url}"


class _TooLarge(httpx.ReadError):
    """A response body went past ``MAX_RESPONSE_BYTES``."""


def _cut_off(exc: BaseException) -> bool:
    """Whether ``exc`` is, or the SDK's wrapping of, a body cut at ``MAX_RESPONSE_BYTES``."""
    return isinstance(exc, _TooLarge) or isinstance(exc.__cause__, _TooLarge)


class _Deadline(httpx.BaseTransport):
    """HTTP whose responses stop at a deadline and at ``MAX_RESPONSE_BYTES``: a read
    timeout alone starts again at every byte, so a server that drips one byte a second
    would never time out, and one that sends without end would fill the memory first."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._local = threading.local()

    @contextlib.contextmanager
    def until(self, deadline: float) -> Iterator[None]:
        """Requests sent by this thread inside the block end by ``deadline``
        (``time.monotonic()``), the reading of their bodies included."""
        self._local.deadline = deadline
        try:
            yield
        finally:
            self._local.deadline = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = getattr(self._local, "deadline", None)
        response = self._inner.handle_request(request)
        if isinstance(response.stream, httpx.SyncByteStream):
            response.stream = _Until(response.stream, deadline, request)
        return response

    def close(self) -> None:
        self._inner.close()


class _Until(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, deadline: float | None,
                 request: httpx.Request) -> None:
        self._inner = inner
        self._deadline = deadline
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._inner:
            if self._deadline is not None and time.monotonic() > self._deadline:
                raise httpx.ReadTimeout("the deadline passed", request=self._request)
            received += len(chunk)
            if received > MAX_RESPONSE_BYTES:
                raise _TooLarge("the response body is too large", request=self._request)
            yield chunk

    def close(self) -> None:
        self._inner.close()


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
