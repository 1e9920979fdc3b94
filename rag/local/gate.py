"""The front door of ``rag local serve``: the only socket a user or a browser can reach.

llama.cpp's server listens on a private port; this gate, on the port the user chose,
passes on what rag's OpenAI-compatible client needs and nothing else. Any web page a
browser shows can send requests to 127.0.0.1, so the gate:

- answers only requests whose ``Host`` is a loopback name (a DNS-rebinding page sends its
  own host name) and whose ``Origin``, when there is one, is a loopback origin: a page from
  elsewhere gets 403 and never a completion;
- sends no CORS headers (llama.cpp reflected every ``Origin`` with credentials allowed);
- serves ``POST /v1/chat/completions`` (passed on, streamed as it comes), ``GET /v1/models``
  (the model's alias, no file path) and ``GET /health``; everything else (``/props``,
  ``/slots``, the web UI) is 404;
- on ``close`` drops every open connection, so a stopped server ends its requests at once.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["MAX_REQUEST_BYTES", "Gate"]

MAX_REQUEST_BYTES = 4 * 2**20
"""A chat request is a prompt of a few thousand tokens: tens of kB."""
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_PASSED_HEADERS = ("content-type", "cache-control")


class Gate(ThreadingHTTPServer):
    """A loopback-only HTTP server passing chat requests on to ``upstream`` (host, port)."""

    daemon_threads = True

    def __init__(self, port: int, upstream: tuple[str, int], model_alias: str) -> None:
        self.upstream = upstream
        self.model_alias = model_alias
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="rag-local-gate", daemon=True)
        thread.start()
        return thread

    def track(self, sock: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._open.add if open_ else self._open.discard)(sock)

    def close(self) -> None:
        """Stop accepting, and end every request under way (client and upstream sides)."""
        self.shutdown()
        self.server_close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()


class _Handler(BaseHTTPRequestHandler):
    server: Gate
    protocol_version = "HTTP/1.0"  # one request a connection; a streamed body ends at close
    server_version = "rag-local"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def do_GET(self) -> None:
        if not self._allowed():
            return
        path = urlsplit(self.path).path.rstrip("/")
        if path == "/v1/models":
            self._json(200, {"object": "list", "data": [
                {"id": self.server.model_alias, "object": "model", "owned_by": "rag"}]})
        elif path == "/health":
            self._json(200, {"status": "ok"})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        if not self._allowed():
            return
        if urlsplit(self.path).path.rstrip("/") != "/v1/chat/completions":
            self._json(404, {"error": {"message": "not found"}})
            return
        try:
            length = int(self.headers.get("content-length", ""))
        except ValueError:
            self._json(411, {"error": {"message": "a request body needs a Content-Length"}})
            return
        if not 0 <= length <= MAX_REQUEST_BYTES:
            self._json(413, {"error": {"message": "the request body is too large"}})
            return
        self._pass_on(self.rfile.read(length))

    def do_OPTIONS(self) -> None:  # a browser's CORS preflight: no CORS is served
        if self._allowed():
            self._json(405, {"error": {"message": "method not allowed"}})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS

    def _allowed(self) -> bool:
        """403 unless Host, and Origin if sent, name this machine's loopback."""
        host = _host_name(self.headers.get("host", ""))
        origin = self.headers.get("origin")
        if host not in _LOOPBACK:
            self._json(403, {"error": {"message": "only loopback Host values are served"}})
            return False
        if origin is not None and _host_name(urlsplit(origin).netloc) not in _LOOPBACK:
            self._json(403, {"error": {"message": "requests from web pages are not served"}})
            return False
        return True

    def _pass_on(self, body: bytes) -> None:
        upstream = http.client.HTTPConnection(*self.server.upstream, timeout=None)
        try:
            upstream.request("POST", "/v1/chat/completions", body=body,
                             headers={"content-type": "application/json"})
            if upstream.sock is not None:
                self.server.track(upstream.sock, True)
            response = upstream.getresponse()
            self.send_response(response.status)
            for name in _PASSED_HEADERS:
                if value := response.getheader(name):
                    self.send_header(name, value)
            self.end_headers()
            while piece := response.read1(65536):
                self.wfile.write(piece)
                self.wfile.flush()
        except (OSError, http.client.HTTPException):
            pass  # the client left, or the gate is closing: nothing more to send
        finally:
            if upstream.sock is not None:
                self.server.track(upstream.sock, False)
            upstream.close()

    def _json(self, status: int, value: Any) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _host_name(netloc: str) -> str:
    """The host of ``host[:port]`` or ``[v6]:port``, lower-cased; '' when unparseable."""
    try:
        return (urlsplit(f"//{netloc}").hostname or "").lower()
    except ValueError:
        return ""
