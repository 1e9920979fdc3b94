"""vcrpy set-up shared by the recorded tests and ``rag eval``: what is matched, what is
scrubbed, and where the record mode comes from.

Requests are matched on method, path and body less the model name, so a cassette
recorded against one endpoint (a local llama.cpp server, OpenAI) replays whatever base URL
and model the replaying side names. Authorization, cookies and organisation headers are
scrubbed from requests and from responses before anything is written.

``RAG_RECORD`` sets the record mode: unset (or ``none``) replays and fails on any request
that is not recorded; ``all`` re-records against the endpoint in ``OPENAI_BASE_URL``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["SCRUBBED_HEADERS", "record_mode", "recorder"]

SCRUBBED_HEADERS = (
    "authorization", "api-key", "cookie", "set-cookie", "openai-organization",
    "openai-project", "x-request-id", "x-api-key",
)


def record_mode() -> str:
    mode = os.environ.get("RAG_RECORD", "none") or "none"
    if mode not in ("none", "once", "new_episodes", "all"):
        raise ValueError(f"RAG_RECORD must be none, once, new_episodes or all, not {mode!r}")
    return mode


def recorder(
    folder: Path,
    mode: str | None = None,
    matcher: tuple[str, Callable[[Any, Any], None]] | None = None,
) -> Any:
    """A ``vcr.VCR`` for cassettes under ``folder``: ``mode`` defaults to ``RAG_RECORD``,
    requests match on method, path and ``matcher`` (default: the body less the model)."""
    import vcr

    name, match = matcher or ("body_without_model", _same_body_without_model)
    machine = vcr.VCR(
        cassette_library_dir=str(folder),
        record_mode=mode or record_mode(),
        match_on=["method", "path", name],
        filter_headers=list(SCRUBBED_HEADERS),
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
    machine.register_matcher(name, match)
    return machine


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SCRUBBED_HEADERS:
            del headers[name]
    return response


def _same_body_without_model(r1: Any, r2: Any) -> None:
    if _without_model(r1.body) != _without_model(r2.body):
        raise AssertionError("request bodies differ")


def _without_model(body: bytes | str | None) -> object:
    if body is None:
        return None
    text = body.decode() if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        data.pop("model", None)
    return data
