"""The alert scheduler: runs in the app's lifespan, wakes when something is due.

Theory of operation. Two loops. The raising loop re-measures the tickets
whose stored `next_at` (earliest unreached threshold or future event; an
index) has come; that re-measure raises alerts into the outbox in its
transaction (store/alerts.py). The delivering loop (with a webhook) claims
due outbox rows and POSTs them, several at a time in worker threads,
marking each delivered on a 2xx or pending again after a backoff; a slow
webhook never delays raising. Each loop sleeps until the instant its pass
named, or until `wake()` (recorded events and raised alerts poke it; tests
poke it after moving a frozen clock). "Now" always comes from the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import anyio
import anyio.to_thread

from slarules.alerts import webhook
from slarules.clock import Clock
from slarules.engine.policy import Policy
from slarules.metrics import Metrics
from slarules.store.alerts import AlertOutbox, ClaimedAlert

log = logging.getLogger("slarules.alerts")

MAX_IDLE = 30.0  # seconds: look again at least this often (other processes, clock jumps)
BATCH = 200


class Measures(Protocol):
    """What the scheduler asks of the service (slarules.service.TicketService)."""

    def remeasure_due(self, policy: Policy, now: datetime, limit: int = ...) -> int: ...

    def next_wakeup(self) -> datetime | None: ...


class Scheduler:
    def __init__(
        self,
        service: Measures,
        outbox: AlertOutbox,
        clock: Clock,
        policy: Callable[[], Policy],
        metrics: Metrics,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_timeout: float = 5.0,
        lease: float = 30.0,
        concurrency: int = 8,
        post: Callable[..., webhook.DeliveryResult] | None = None,
    ) -> None:
        self.service = service
        self.outbox = outbox
        self.clock = clock
        self.policy = policy
        self.metrics = metrics
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.webhook_timeout = webhook_timeout
        self.lease = lease
        self.post = post or webhook.post
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.concurrency = concurrency
        self._limiter = anyio.CapacityLimiter(concurrency)  # webhook POSTs in flight
        self._db = anyio.CapacityLimiter(2)  # the scheduler's own DB calls
        self._raise_wake = asyncio.Event()
        self._deliver_wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.passes = 0  # passes of the raising loop (readiness needs one)
        self.last_error: str | None = None

    # -- control ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the raising loop and, with a webhook, the delivering loop (on this loop)."""
        self._loop = asyncio.get_running_loop()
        self._tasks = [
            asyncio.create_task(
                self._run(self.raise_due, self._raise_wake, count=True), name="slarules-raise"
            )
        ]
        if self.webhook_url:
            self._tasks.append(
                asyncio.create_task(
                    self._run(self.deliver_due, self._deliver_wake), name="slarules-deliver"
                )
            )

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    def wake(self) -> None:
        """Look again now (thread-safe: callable from worker threads and tests)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def both() -> None:
            self._raise_wake.set()
            self._deliver_wake.set()

        try:
            if asyncio.get_running_loop() is loop:
                both()
                return
        except RuntimeError:
            pass
        loop.call_soon_threadsafe(both)

    @property
    def healthy(self) -> bool:
        """Every loop runs, the last passes succeeded, and one raising pass is done."""
        return (
            bool(self._tasks)
            and not any(t.done() for t in self._tasks)
            and self.last_error is None
            and self.passes > 0
        )

    # -- the loops ----------------------------------------------------------------------

    async def _run(
        self,
        one_pass: Callable[[], Awaitable[datetime | None]],
        wake: asyncio.Event,
        count: bool = False,
    ) -> None:
        """Run passes; between them sleep until the instant the pass named, or a wake-up."""
        while not self._stopping:
            wake.clear()
            try:
                nxt = await one_pass()
                self.last_error = None
            except Exception as e:  # keep scheduling; readiness reports it
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("alert scheduler pass failed")
                await self._sleep(wake, 1.0)
                continue
            if count:
                self.passes += 1
            await self._sleep(wake, self._seconds_until(nxt))

    @staticmethod
    async def _sleep(wake: asyncio.Event, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=seconds)

    def _seconds_until(self, at: datetime | None) -> float:
        if at is None:
            return MAX_IDLE
        precise = getattr(self.clock, "precise_now", self.clock.now)
        return max(0.0, min(MAX_IDLE, (at - precise()).total_seconds()))

    async def raise_due(self) -> datetime | None:
        """Re-measure the tickets whose instant has come (raising their alerts in the same
        transactions); the next ticket instant."""
        now = self.clock.now()
        policy = self.policy()
        while True:
            n = await anyio.to_thread.run_sync(
                self.service.remeasure_due, policy, now, BATCH, limiter=self._db
            )
            if n:
                self.metrics.tickets_remeasured.inc(n)
            if n < BATCH:
                break
        return await anyio.to_thread.run_sync(self.service.next_wakeup, limiter=self._db)

    async def deliver_due(self) -> datetime | None:
        """POST every alert due for delivery; the next delivery instant (retry or lease)."""
        now = self.clock.now()
        while await self._deliver_some(now):
            pass
        return await anyio.to_thread.run_sync(self.outbox.next_attempt, limiter=self._db)

    async def _deliver_some(self, now: datetime) -> int:
        claimed = await anyio.to_thread.run_sync(
            self.outbox.claim,
            self.owner,
            now,
            self.lease,
            self.concurrency,  # one round of POSTs: the batch ends well within its lease
            limiter=self._db,
        )
        if not claimed:
            return 0
        results: dict[str, tuple[bool, float]] = {}

        async def one(a: ClaimedAlert) -> None:
            results[a.id] = await anyio.to_thread.run_sync(self._post, a, limiter=self._limiter)

        async with anyio.create_task_group() as tg:
            for a in claimed:
                tg.start_soon(one, a)
        done_at = self.clock.now()
        ok = [a for a in claimed if results[a.id][0]]
        failed = [a for a in claimed if not results[a.id][0]]
        retries = [
            (a.id, done_at + timedelta(seconds=webhook.backoff_seconds(a.attempts))) for a in failed
        ]
        await anyio.to_thread.run_sync(
            self.outbox.delivered, [a.id for a in ok], done_at, limiter=self._db
        )
        await anyio.to_thread.run_sync(self.outbox.retry, retries, limiter=self._db)
        wall = getattr(self.clock, "precise_now", self.clock.now)()
        for a in ok:
            lag = max(0.0, (wall - a.due_at).total_seconds())
            self.metrics.alerts_delivered.inc()
            self.metrics.alert_lag.observe(lag)
        self.metrics.alerts_failed.inc(len(failed))
        return len(claimed)

    def _post(self, a: ClaimedAlert) -> tuple[bool, float]:
        assert self.webhook_url is not None
        started = time.perf_counter()
        body = json.loads(a.payload)
        result = self.post(self.webhook_url, body, self.webhook_secret, self.webhook_timeout)
        took = time.perf_counter() - started
        self.metrics.webhook_latency.observe(took)
        log_delivery(a, body, result, took)
        return result.ok, took


def log_delivery(
    a: ClaimedAlert, body: dict[str, Any], result: webhook.DeliveryResult, took: float
) -> None:
    """One JSON line per delivery attempt: info when delivered, warning when it failed."""
    line: dict[str, Any] = {
        "event": "alert.delivery",
        "alert": a.id,
        "ticket": body.get("ticketId"),
        "kind": body.get("kind"),
        "metric": body.get("metric"),
        "due_at": body.get("at"),
        "attempt": a.attempts,
        "ok": result.ok,
        "status": result.status,
        "ms": round(took * 1000, 1),
    }
    if result.error:
        line["error"] = result.error
    log.log(logging.INFO if result.ok else logging.WARNING, json.dumps(line, separators=(",", ":")))
