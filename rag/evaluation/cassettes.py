"""vcrpy set-up shared by the recorded tests and ``rag eval``: what is matched, what is
scrubbed, and where the record mode comes from.

Requests are matched on method, path and body less the model name, so a cassette
recorded against one endpoint (a local llama.cpp server, OpenAI) replays whatever base URL
and model the replaying side names. Authorization, cookies and organisation headers are
scrubbed from requests and from responses before anything is written.

``RAG_RECORD`` sets the record mode: unset (or ``none``) replays and fails on any request
that is not recorded; ``all`` re-records against the endpoint in ``OPENAI_BASE_URL``.

Every response recorded carries where it came from in ``x-rag-recorded-*`` headers
(``endpoint_provenance``): the model's name and, for the local model, its sha256, and
the server's name and version, so a cassette says which model wrote it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["PROVENANCE_PREFIX", "SCRUBBED_HEADERS", "endpoint_provenance", "record_mode",
           "recorder"]

PROVENANCE_PREFIX = "x-rag-recorded-"

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
    provenance: dict[str, str] | None = None,
) -> Any:
    """A ``vcr.VCR`` for cassettes under ``folder``: ``mode`` defaults to ``RAG_RECORD``,
    requests match on method, path and ``matcher`` (default: the body less the model);
    responses recorded get ``provenance`` as ``x-rag-recorded-<key>`` headers."""
    import vcr

    name, match = matcher or ("body_without_model", _same_body_without_model)
    machine = vcr.VCR(
        cassette_library_dir=str(folder),
        record_mode=mode or record_mode(),
        match_on=["method", "path", name],
        filter_headers=list(SCRUBBED_HEADERS),
        before_record_response=lambda response: _scrub_response(response, provenance or {}),
        decode_compressed_response=True,
    )
    machine.register_matcher(name, match)
    return machine


def _scrub_response(response: dict[str, Any], provenance: dict[str, str]) -> dict[str, Any]:
    headers = response.setdefault("headers", {})
    for name in list(headers):
        if name.lower() in SCRUBBED_HEADERS:
            del headers[name]
    for key, value in provenance.items():
        headers[f"{PROVENANCE_PREFIX}{key}"] = [value]
    return response


def endpoint_provenance(base_url: str, model: str, model_dir: Path | None = None) -> dict[str, str]:
    """What an OpenAI-compatible endpoint says it serves (its model list, and llama.cpp's
    ``/props``), and for the local model the sha256 its file was checked against."""
    import httpx2 as httpx

    found = {"model": model, "endpoint": base_url}
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        props = httpx.get(f"{root}/props", timeout=10).json()
        found["server"] = f"llama.cpp build {props.get('build_info', '?')}"
        found["model-file"] = Path(str(props.get("model_path", ""))).name
    except (httpx.HTTPError, ValueError, AttributeError):
        pass
    from rag.local.model import MODEL_ALIAS, MODEL_SHA256, installed_model
    from rag.local.server import server_version

    if model == MODEL_ALIAS and model_dir is not None and installed_model(model_dir):
        found["model-sha256"] = MODEL_SHA256
        found["server"] = f"{server_version()} ({found.get('server', 'llama.cpp')})"
    return found


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
