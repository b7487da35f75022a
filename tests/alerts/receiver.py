"""A real webhook receiver on loopback for the alert tests (a thread, an HTTP server)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str = ""
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    delays: list[float] = field(default_factory=list)  # seconds before answering, in order
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)  # every attempt
    delivered: list[dict[str, Any]] = field(default_factory=list)  # bodies answered 2xx
    answered: int = 0  # attempts answered so far (a delayed one counts once its delay is over)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.posts.append((headers, body))
            delay = self.delays.pop(0) if self.delays else 0.0
            code = self.statuses.pop(0) if self.statuses else 200
        if delay:
            time.sleep(delay)  # the sender has given up by now: not delivered
            with self.lock:
                self.answered += 1
            return code
        with self.lock:
            self.answered += 1
            if 200 <= code < 300:
                self.delivered.append(json.loads(body))
            return code

    def ids(self) -> list[str]:
        with self.lock:
            return [d["id"] for d in self.delivered]

    def wait_for(self, n: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Wait until `n` alerts were delivered (2xx); the delivered bodies."""
        wait_until(lambda: len(self.delivered) >= n, timeout, lambda: f"{self.delivered}")
        with self.lock:
            return list(self.delivered)


def wait_until(
    pred: Callable[[], bool], timeout: float = 15.0, why: Callable[[], str] = lambda: ""
) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s: {why()}")
        time.sleep(0.02)


@contextmanager
def webhook_receiver(
    statuses: list[int] | None = None, delays: list[float] | None = None
) -> Iterator[Receiver]:
    rec = Receiver(statuses=list(statuses or []), delays=list(delays or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            code = rec.answer({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    class Backlog(ThreadingHTTPServer):
        request_queue_size = 128  # concurrent deliveries; the default 5 drops SYNs

    server = Backlog(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
