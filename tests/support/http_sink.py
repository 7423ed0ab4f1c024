"""A webhook receiver on loopback for tests: records every POST, answers what it is told."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs


@attrs.frozen
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Sink:
    """A webhook receiver on 127.0.0.1: records every POST, answers `status[path]` (200),
    each after `delay` seconds (a slow subscriber)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.received: list[Received] = []
        self.status: dict[str, int] = {}
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if delay:
                    time.sleep(delay)
                sink.received.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(sink.status.get(self.path, 200))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def running_sink() -> Iterator[Sink]:
    sink = Sink()
    try:
        yield sink
    finally:
        sink.close()
