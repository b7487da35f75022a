"""A bounded runner for expensive sync work (checkRules, explain, reloadRules, compliance):
off the event loop, at most `threads` at once, an answer within `seconds`.

Threads cannot be killed: on a timeout, or when the client disconnects (see
`CancelOnDisconnect`), the caller is answered at once and the thread is abandoned; it
keeps its limiter token until it really ends, so abandoned work cannot pile up beyond
`threads` (stack-next.md §4.2). Work run with `run_stoppable` also gets a `Deadline` (the
core's `Cancel`): it is stopped on the timeout or the disconnect, and the pure core polls
it at coarse steps, so the abandoned thread ends at its next poll instead of finishing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from slarules.engine.cancel import Cancelled
from slarules.errors import BAD_USER_INPUT, ServiceError

T = TypeVar("T")


class Budget:
    """A bounded runner for expensive sync work: at most `threads` at once (abandoned
    threads included, so timeouts cannot pile up), each answer within `seconds`.

    On timeout or a client gone the caller gets an answer at once; the thread cannot be
    killed and finishes on its own, still holding its limiter token."""

    def __init__(self, threads: int, seconds: float) -> None:
        self.threads = threads
        self.seconds = seconds
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # made on the event loop
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        started = time.monotonic()
        limiter = self.limiter
        try:
            with anyio.fail_after(self.seconds):
                return await anyio.to_thread.run_sync(
                    fn, *args, abandon_on_cancel=True, limiter=limiter
                )
        except (TimeoutError, Cancelled):  # Cancelled: its own deadline fired first
            waited = round(time.monotonic() - started, 1)
            raise ServiceError(
                BAD_USER_INPUT,
                f"{what} took longer than {self.seconds:g} s (SLA_OPERATION_TIMEOUT) "
                f"and was abandoned after {waited} s; send less work per request",
                reason="timeout",
            ) from None

    async def run_stoppable(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`run` of `fn(*args, deadline)`, where `deadline` is a `Deadline` of this budget's
        seconds. When the answer is given up (time limit, client gone, any cancellation)
        the deadline is stopped, so the thread ends at its next poll of it."""
        deadline = Deadline(self.seconds)
        try:
            return await self.run(what, fn, *args, deadline)
        finally:
            deadline.stop()


class Deadline:
    """The edge's `Cancel` (slarules.engine.cancel) for one operation: `check()` raises
    `Cancelled` once `seconds` have passed or after `stop()` (its request was answered
    or its client left). The core never reads the clock; this does, once per poll."""

    def __init__(self, seconds: float) -> None:
        self._until = time.monotonic() + seconds
        self._stopped = False
        self.polls = 0  # how often the work asked (tests, logs)

    def stop(self) -> None:
        self._stopped = True

    @property
    def stopped(self) -> bool:
        return self._stopped or time.monotonic() > self._until

    def check(self) -> None:
        self.polls += 1
        if self.stopped:
            self._stopped = True
            raise Cancelled("the operation's time budget ran out or its client left")


class CancelOnDisconnect:
    """ASGI middleware: cancel an HTTP request's task when its client disconnects, so a
    resolver waiting on a `Budget` thread stops waiting (stack-next.md §4.2).

    The request runs in a cancel scope; only a request still running `WATCH_AFTER`
    seconds in gets a watcher task, which waits for the disconnect after the body and
    cancels the scope. Most requests end before that, and cost no task or task group
    (those were about 0.15 ms of a `{ __typename }` round trip)."""

    WATCH_AFTER = 0.05  # seconds: a disconnect is noticed this much later at most

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_read, responded = anyio.Event(), False
        request = anyio.CancelScope()

        async def receive_body() -> Any:
            msg = await receive()
            if msg["type"] == "http.request" and not msg.get("more_body"):
                body_read.set()
            return msg

        async def send_tracking(msg: Any) -> None:
            nonlocal responded
            if msg["type"] == "http.response.body" and not msg.get("more_body"):
                responded = True
            await send(msg)

        async def watch() -> None:
            try:
                await body_read.wait()  # after the body only a disconnect can come
                if (await receive())["type"] == "http.disconnect" and not responded:
                    request.cancel()
            except Exception:  # the connection went first: nothing left to cancel
                return

        loop = asyncio.get_running_loop()
        watcher: list[asyncio.Task[None]] = []
        later = loop.call_later(self.WATCH_AFTER, lambda: watcher.append(loop.create_task(watch())))
        try:
            with request:
                await self.app(scope, receive_body, send_tracking)
        finally:
            later.cancel()
            for task in watcher:
                task.cancel()


class BodyTimeout:
    """ASGI middleware: a request body that stops arriving (shorter than its
    Content-Length, a stalled upload) is answered 408 after `seconds`."""

    def __init__(self, app: Any, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        done = False
        started = False

        async def receive_in_time() -> Any:
            nonlocal done
            if done:
                return await receive()
            try:
                with anyio.fail_after(self.seconds):
                    msg = await receive()
            except TimeoutError:
                raise _BodyTimedOut from None
            if msg["type"] != "http.request" or not msg.get("more_body"):
                done = True
            return msg

        async def send_started(msg: Any) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, receive_in_time, send_started)
        except _BodyTimedOut:
            if started:
                return
            body = b'{"error": "the request body did not arrive in time", "code": "TIMEOUT"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 408,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
                }
            )
            await send({"type": "http.response.body", "body": body})


class _BodyTimedOut(Exception):
    pass
