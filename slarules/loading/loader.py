"""The load loop: items from files → batches → a sink, idempotent, errors kept per line.

Tickets already stored are not sent again (one `ticket(id)` query per few
tickets, skipped when the database was empty at the start); events carry
their ids, so the server applies each once however often it is sent
(`duplicates` counts the rest). A batch of events is one transaction: when
it fails, the failing line is taken out (the error names its index) or the
batch is halved until it is found, and the rest is sent again, so one
bad line never stops the load.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from slarules.loading.sinks import TICKETS_PER_REQUEST, EventsResult, Sink, SinkError
from slarules.loading.sources import Item, LoadError

EVENTS_PER_BATCH = 500  # the server takes at most 1000 per recordEvents
BODY_LIMIT = 600_000  # bytes of event JSON per batch (the server's limit is 1 MB)


@dataclass
class Summary:
    tickets_new: int = 0
    tickets_present: int = 0
    events_applied: int = 0
    events_duplicate: int = 0
    errors: list[LoadError] = field(default_factory=list)
    error_count: int = 0
    seconds: float = 0.0

    def render(self) -> str:
        rate = (self.events_applied + self.events_duplicate) / self.seconds if self.seconds else 0
        return (
            f"loaded {self.tickets_new} new tickets ({self.tickets_present} already there), "
            f"{self.events_applied} events ({self.events_duplicate} already there), "
            f"{self.error_count} errors in {self.seconds:.1f}s ({rate:,.0f} events/s)"
        )


class Loader:
    """Send items to a sink in batches; `on_error` sees every error as it happens."""

    def __init__(
        self,
        sink: Sink,
        *,
        batch: int = EVENTS_PER_BATCH,
        skip_events_of_present: bool = False,
        on_error: Callable[[LoadError], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
        keep_errors: int = 1000,
    ) -> None:
        self.sink = sink
        self.batch = max(1, min(batch, 1000))
        self.skip_events_of_present = skip_events_of_present
        self.on_error = on_error
        self.on_progress = on_progress
        self.keep_errors = keep_errors
        self.summary = Summary()
        self._tickets: list[Item] = []
        self._events: list[Item] = []
        self._event_bytes = 0
        self._failed: set[str] = set()  # tickets not recorded: their events are not sent
        self._present: set[str] = set()  # tickets stored before this load (demo skips events)
        self._empty = False  # the database had no tickets when the load began
        self._recorded: set[str] = set()  # tickets this load recorded

    def run(self, items: Iterable[Item | LoadError]) -> Summary:
        started = time.perf_counter()
        # into an empty database every ticket is new: no need to ask for each
        self._empty = self.sink.ticket_count() == 0
        for item in items:
            if isinstance(item, LoadError):
                self._error(item)
                self._done(1)
            elif item.kind == "ticket":
                self._tickets.append(item)
                if len(self._tickets) >= TICKETS_PER_REQUEST * 10:
                    self._flush_tickets()
            else:
                self._events.append(item)
                self._event_bytes += _size(item.data)
                if len(self._events) >= self.batch or self._event_bytes >= BODY_LIMIT:
                    self._flush_tickets()
                    self._flush_events()
        self._flush_tickets()
        self._flush_events()
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    # -- tickets -----------------------------------------------------------------------

    def _flush_tickets(self) -> None:
        items, self._tickets = self._tickets, []
        if not items:
            return
        ids = list(dict.fromkeys(i.ticket_id for i in items))
        present = set() if self._empty else self.sink.existing(ids)
        self._present |= present
        todo: list[Item] = []
        seen: set[str] = set()
        for item in items:
            tid = item.ticket_id
            if tid in present or tid in seen or tid in self._recorded:
                self.summary.tickets_present += 1
            else:
                seen.add(tid)
                todo.append(item)
        results = self.sink.record_tickets([i.data for i in todo]) if todo else []
        for item, err in zip(todo, results, strict=True):
            if err is None:
                self.summary.tickets_new += 1
                self._recorded.add(item.ticket_id)
            else:
                self._failed.add(item.ticket_id)
                self._error(_line_error(item, err))
        self._done(len(items))

    # -- events ------------------------------------------------------------------------

    def _flush_events(self) -> None:
        items, self._events, self._event_bytes = self._events, [], 0
        if not items:
            return
        send: list[Item] = []
        for item in items:
            tid = item.ticket_id
            if tid in self._failed:
                self._error(
                    LoadError(
                        item.where,
                        "ticket-not-recorded",
                        f"ticket `{tid}` was not recorded",
                        item.key,
                    )
                )
            elif self.skip_events_of_present and tid in self._present:
                self.summary.events_duplicate += 1
            else:
                send.append(item)
        self._done(len(items) - len(send))
        self._send(send)

    def _send(self, items: list[Item]) -> None:
        """Send a batch; on an error take out the failing line (or halve) and send the rest."""
        while items:
            got = self.sink.record_events([i.data for i in items])
            if isinstance(got, EventsResult):
                self.summary.events_applied += got.applied
                self.summary.events_duplicate += got.duplicates
                self._done(len(items))
                return
            bad = _culprit(items, got)
            if bad is not None:
                self._error(_line_error(items[bad], got))
                self._done(1)
                tid = items[bad].ticket_id
                if got.code == "NOT_FOUND":  # every event of that ticket fails alike
                    rest = [i for i in items if i.ticket_id == tid and i is not items[bad]]
                    for i in rest:
                        self._error(_line_error(i, got))
                    self._done(len(rest))
                    items = [i for i in items if i.ticket_id != tid]
                else:
                    items = items[:bad] + items[bad + 1 :]
            elif len(items) == 1:
                self._error(_line_error(items[0], got))
                self._done(1)
                return
            else:
                half = len(items) // 2
                self._send(items[:half])
                items = items[half:]

    # -- bookkeeping ---------------------------------------------------------------------

    def _error(self, e: LoadError) -> None:
        self.summary.error_count += 1
        if len(self.summary.errors) < self.keep_errors:
            self.summary.errors.append(e)
        if self.on_error is not None:
            self.on_error(e)

    def _done(self, n: int) -> None:
        if n and self.on_progress is not None:
            self.on_progress(n)


def _culprit(items: list[Item], err: SinkError) -> int | None:
    """The index of the event an error is about, when it says (index, key or ticket)."""
    i = err.index
    if i is not None and 0 <= i < len(items):
        return i
    tid = err.extensions.get("ticketId")
    if err.code == "NOT_FOUND" and tid is not None:
        for n, item in enumerate(items):
            if item.ticket_id == str(tid):
                return n
    return None


def _line_error(item: Item, err: SinkError) -> LoadError:
    reason = err.extensions.get("reason")
    code = f"{err.code}/{reason}" if reason else err.code
    key = item.key if not err.key else f"{item.key} {_local_key(err.key)}"
    return LoadError(item.where, code, err.message.splitlines()[0] if err.message else "", key)


def _local_key(key: str) -> str:
    """`events[3].at` → `at`; `input.fields.x` → `fields.x` (the line is named already)."""
    if key.startswith("events[") and "]." in key:
        return key.split("].", 1)[1]
    return key.removeprefix("input.")


def _size(data: dict[str, Any]) -> int:
    """Roughly the JSON size of an input (text dominates)."""
    n = 120
    msg = data.get("message")
    if isinstance(msg, dict) and isinstance(msg.get("text"), str):
        n += len(msg["text"].encode())
    upd = data.get("update")
    if isinstance(upd, dict):
        n += len(str(upd))
    return n
