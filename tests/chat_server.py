"""A chat-completions server on 127.0.0.1 for tests: it answers with whatever its
``writer`` makes of the lines it was shown (by id), as text, as a structured answer
when a schema is asked for ("json"), or with a 400 to any schema ("reject"); it keeps
every request, and can report llama.cpp-style ``timings``."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rag.verify import ID_MARKERS, split_marked

Writer = Callable[[dict[str, str]], str]  # the context's lines by id -> completion


def context_ids(messages: list[dict[str, str]]) -> dict[str, str]:
    user = messages[1]["content"]
    return dict(re.findall(r"^\[(S\d+)\] \([^)]*\) (.*)$", user, flags=re.M))


class ChatServer(ThreadingHTTPServer):
    writer: Writer
    manner: str  # "text", "json" or "reject"
    requests: list[dict[str, object]]
    timings: dict[str, float] | None  # llama.cpp's prompt_ms and predicted_ms, if any


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.requests.append(body)
        if "response_format" in body and self.server.manner == "reject":
            error = {"error": {"message": "response_format is not supported", "code": 400}}
            self._send(400, "application/json", json.dumps(error))
            return
        text = self.server.writer(context_ids(body["messages"]))
        if "response_format" in body and self.server.manner == "json":
            text = _as_structured(text)
        if body.get("stream"):
            self._send(200, "text/event-stream", "".join(
                f"data: {json.dumps(_chunk(word))}\n\n" for word in re.split(r"(?<= )", text)
            ) + "data: [DONE]\n\n")
        else:
            completion = _completion(text)
            if self.server.timings is not None:
                completion["timings"] = self.server.timings
            self._send(200, "application/json", json.dumps(completion))

    def _send(self, status: int, kind: str, payload: str) -> None:
        data = payload.encode()
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _as_structured(text: str) -> str:
    """The writer's claims as a structured answer, ids as it cites them (none included)."""
    return json.dumps({"evidence": [], "answerable": True, "sentences": [
        {"text": sentence, "cites": ids} for sentence, ids in split_marked(text, ID_MARKERS)
    ]})


def _completion(text: str) -> dict[str, object]:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "hostile",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}]}


def _chunk(text: str) -> dict[str, object]:
    return {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "hostile",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}




@contextmanager
def chat_server() -> Iterator[ChatServer]:
    httpd = ChatServer(("127.0.0.1", 0), _Handler)
    httpd.requests = []
    httpd.manner = "text"
    httpd.timings = None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
