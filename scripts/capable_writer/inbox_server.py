"""An OpenAI-compatible chat endpoint on 127.0.0.1 whose answers a capable language model
writes by hand: each request is left in ``DIR/inbox/NNNN.json`` and its completion is
read from ``DIR/outbox/NNNN.json`` once the writer puts it there.

    python scripts/capable_writer/inbox_server.py --dir /work/cw --port 8799

Used to record what a GPT-4-class model would answer through rag's verified LLM path
(issue 27): a helper session plays the model, reading only each request's messages (and
the JSON schema it asks for) and writing the completion's text, as such a model would,
repair requests included. ``rag eval --record`` against this server records real HTTP
exchanges; the cassettes say in their provenance headers that this server wrote them.

An outbox file holds the completion's text (for a JSON-schema request, the JSON text
itself). The server waits for it as long as ``--wait`` seconds, then answers 504.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODEL = "capable-writer"


class InboxServer(ThreadingHTTPServer):
    folder: Path
    wait_s: float
    counter: int
    lock: threading.Lock


class Handler(BaseHTTPRequestHandler):
    server: InboxServer
    server_version = "rag-capable-writer-inbox/1.0"

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        with self.server.lock:
            self.server.counter += 1
            number = f"{self.server.counter:04d}"
        inbox = self.server.folder / "inbox" / f"{number}.json"
        outbox = self.server.folder / "outbox" / f"{number}.json"
        partial = inbox.with_suffix(".tmp")
        partial.write_text(json.dumps({"messages": body.get("messages", []),
                                       "response_format": body.get("response_format")},
                                      indent=1, ensure_ascii=False), encoding="utf-8")
        partial.replace(inbox)
        deadline = time.monotonic() + self.server.wait_s
        while not outbox.exists():
            if time.monotonic() > deadline:
                self._send(504, {"error": {"message": f"no answer in {outbox}"}})
                return
            time.sleep(0.5)
        time.sleep(0.2)  # let the writer finish the file
        text = outbox.read_text(encoding="utf-8")
        self._send(200, {
            "id": f"cw-{number}", "object": "chat.completion", "created": int(time.time()),
            "model": MODEL,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        })

    def _send(self, status: int, payload: dict[str, object]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--wait", type=float, default=1800.0)
    args = parser.parse_args()
    for sub in ("inbox", "outbox"):
        (args.dir / sub).mkdir(parents=True, exist_ok=True)
    server = InboxServer(("127.0.0.1", args.port), Handler)
    server.folder, server.wait_s, server.counter = args.dir, args.wait, 0
    server.lock = threading.Lock()
    server.counter = max([int(p.stem) for p in (args.dir / "inbox").glob("*.json")] or [0])
    print(f"serving on http://127.0.0.1:{args.port}/v1, inbox {args.dir / 'inbox'}",
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
