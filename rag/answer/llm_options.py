"""The LLM backends' options: what every chat-model backend reads (``LLMOptions``), and
the endpoint the openai backend asks (``OpenAIOptions``). The local backend adds its
model's folder (``rag.local.options``).

Beside ``rag.answer.llm``, not in it: the registry declares these for the built-in
backends when it is imported, and importing anything in that package loads the whole
LLM path (its checks, the verifier), which answering with the extractive backend never
needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rag.errors import ConfigError
from rag.options import Options, option, parse_bool, parse_int, parse_json_object

__all__ = ["DEFAULT_MODEL", "RESERVED_LLM_FIELDS", "LLMOptions", "OpenAIOptions"]

DEFAULT_MODEL = "gpt-4.1-mini"
RESERVED_LLM_FIELDS = frozenset({
    "messages", "model", "stream", "stream_options", "response_format", "n", "tools",
    "tool_choice", "functions", "function_call",
})
"""Request fields rag sets itself: RAG_LLM_EXTRA replacing one would silently change the
question asked, the model, or the shape of the reply the checks read."""


def _check_extra(name: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object, got {value!r}")
    if taken := sorted(RESERVED_LLM_FIELDS & value.keys()):
        raise ConfigError(f"{name} cannot set {', '.join(taken)}: rag sends those itself "
                          "(extra fields are for sampling knobs)")


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}")


def _check_retries(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{name} must be a whole number from 0, got {value!r}")


def _check_name(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a name, got {value!r}")


def _check_optional_text(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{name} must be text, got {value!r}")


@dataclass(frozen=True)
class LLMOptions(Options):
    """What a backend that asks a chat model reads, whichever model it asks."""

    structured: bool = option(
        True, env="RAG_STRUCTURED", parse=parse_bool, check=_check_bool,
        help="ask for structured answers (a JSON schema); 0 for endpoints that ignore the "
             "schema instead of rejecting it")
    llm_extra: dict[str, Any] = option(
        default_factory=dict, env="RAG_LLM_EXTRA", parse=parse_json_object,
        check=_check_extra,
        help='extra request fields, a JSON object, for servers that take more sampling '
             'parameters than OpenAI (llama.cpp: {"repeat_penalty": 1.0})')
    max_retries: int = option(
        3, parse=parse_int, check=_check_retries,
        help="tries again after a 429, a 5xx or a dropped connection, within the timeout")


@dataclass(frozen=True)
class OpenAIOptions(LLMOptions):
    """The openai backend's: which model, at which OpenAI-compatible endpoint."""

    model: str = option(DEFAULT_MODEL, env="RAG_MODEL", check=_check_name,
                        help="the model to ask")
    base_url: str | None = option(
        None, env="OPENAI_BASE_URL", check=_check_optional_text,
        help="an OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama); default OpenAI's")
    api_key: str | None = option(None, env="OPENAI_API_KEY", check=_check_optional_text,
                                 secret=True, help="the endpoint's key")
