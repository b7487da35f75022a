"""`load --db`: the server's own ASGI app, built in this process and called without a socket.

`AppTransport` runs the app's lifespan on an event loop in a background thread
and posts GraphQL requests to `/graphql` as ASGI HTTP calls, so loading
straight into a database takes exactly the intake path of the API (whatever
the app does with a request, it does here) and knows nothing of the store.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from slarules.clock import Clock
from slarules.loading.sinks import GraphQLSink, TransportError
from slarules.settings import Settings


class AppTransport:
    """An ASGI app (its lifespan started) answering GraphQL requests in-process."""

    def __init__(self, app: Any, timeout: float = 600.0) -> None:
        self.app = app
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="load-app", daemon=True)
        self.thread.start()
        self._lifespan_in: asyncio.Queue[dict[str, Any]] | None = None
        self._lifespan_task: Any = None
        self._run(self._startup())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)

    async def _startup(self) -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._lifespan_in = inbox
        self._lifespan_out = outbox
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._lifespan_task = asyncio.ensure_future(self.app(scope, inbox.get, outbox.put))
        await inbox.put({"type": "lifespan.startup"})
        msg = await outbox.get()
        if msg["type"] != "lifespan.startup.complete":
            raise TransportError(msg.get("message") or "the app did not start")

    async def _shutdown(self) -> None:
        assert self._lifespan_in is not None
        await self._lifespan_in.put({"type": "lifespan.shutdown"})
        await self._lifespan_out.get()
        await self._lifespan_task

    async def _post(self, body: bytes) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"localhost"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
            "state": {},
        }
        sent = False
        status = 500
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # a disconnect never comes: wait forever
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)

    def __call__(self, request: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(request, separators=(",", ":")).encode()
        status, raw = self._run(self._post(body))
        try:
            got = json.loads(raw)
        except ValueError:
            raise TransportError(f"the app answered HTTP {status}, not GraphQL") from None
        if not isinstance(got, dict):
            raise TransportError(f"the app answered HTTP {status}, not GraphQL")
        return got

    def close(self) -> None:
        try:
            if self._lifespan_task is not None:
                self._run(self._shutdown())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


def database_sink(settings: Settings, clock: Clock | None = None) -> GraphQLSink:
    """A sink into `settings.database` through the app built in this process.

    The app runs without its alert scheduler (a running server delivers the
    alerts the load plans) and without tokens (nothing listens on a socket).
    `settings.alert_max_age` keeps applying: thresholds passed long ago raise
    no alert, so an old backlog does not flood the webhook.
    """
    from slarules.app import create_app
    from slarules.store import Store

    store = Store.open(settings.database)  # a bad database: one-line SettingsError here
    try:
        app = create_app(replace(settings, scheduler=False, tokens={}), clock, store=store)
        transport = AppTransport(app)
    except BaseException:
        store.close()
        raise

    def close() -> None:
        try:
            transport.close()
        finally:
            store.close()

    return GraphQLSink(transport, close)
