"""A local server besides the sandboxes, on 127.0.0.1: where a redirect points, or a redirect
itself. It records every request that reaches it, so a test can show nothing did."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple


class Received(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LocalServer:
    """Answers every request the same way: a 204 with no body (the answer that made an update
    that never happened look done), or, with `redirect_to`, a 307 to that address followed
    by the request's path."""

    def __init__(self, redirect_to: str | None = None) -> None:
        self.received: list[Received] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.received.append(Received(self.command, self.path, dict(self.headers), body))
                if redirect_to is None:
                    self.send_response(204)
                else:
                    self.send_response(307)
                    self.send_header("Location", redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def local_server(redirect_to: str | None = None) -> Iterator[LocalServer]:
    server = LocalServer(redirect_to)
    try:
        yield server
    finally:
        server.close()
