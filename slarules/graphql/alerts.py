"""Stored alerts at the GraphQL edge: the `alerts` history page and `slaAlerts(after:)` replay.

Both read the outbox (`store.alerts`) and decode each row with the one alert codec, so a
replayed or listed alert is the same `Alert` the live subscription sends. Order: the
instant an alert was raised (`created_at`), then its id.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool

from slarules.alerts import codec
from slarules.engine.alerts import Alert
from slarules.errors import BAD_USER_INPUT, ServiceError
from slarules.graphql import input_types as gi
from slarules.graphql import types as g
from slarules.instants import InvalidInstant, parse_rfc3339, rfc3339
from slarules.store.alerts import AlertQuery
from slarules.store.filters import cursor_of, parse_cursor

MAX_CURSOR = 200  # characters of an `after` argument (ids are 24, cursors about 60)
REPLAY_PAGE = 500
MAX_PAGE = 200


def query_of(f: gi.AlertFilter | gi.AlertHistoryFilter | None) -> AlertQuery:
    if f is None:
        return AlertQuery()
    extra: dict[str, Any] = {}
    if isinstance(f, gi.AlertHistoryFilter):
        extra = {
            "ticket_id": None if f.ticket_id is None else str(f.ticket_id),
            "at_from": f.at_from,
            "at_to": f.at_to,
        }
    return AlertQuery(
        kinds=tuple(k.value for k in f.kinds or ()),
        metrics=tuple(m.value for m in f.metrics or ()),
        level=f.level,
        department=f.department,
        assignee=f.assignee,
        **extra,
    )


def _bad_after(text: str, why: str) -> ServiceError:
    shown = text if len(text) <= 40 else text[:40] + "…"
    return ServiceError(BAD_USER_INPUT, f"`after`: `{shown}` {why}", key="after")


def _position(text: str) -> tuple[datetime, str]:
    if len(text) > MAX_CURSOR:
        raise _bad_after(text, f"is longer than {MAX_CURSOR} characters")
    got = parse_cursor(text)
    if (
        not isinstance(got, list)
        or len(got) != 2
        or not all(isinstance(x, str) and len(x) <= 64 for x in got)
    ):
        raise _bad_after(text, "is not a cursor of this list")
    try:
        return parse_rfc3339(got[0]), got[1]
    except InvalidInstant:
        raise _bad_after(text, "is not a cursor of this list") from None


def history(runtime: Any, f: gi.AlertHistoryFilter | None, first: int, after: str | None) -> Any:
    """One page of stored alerts, newest raised first (worker thread)."""
    if not 0 <= first <= MAX_PAGE:
        raise ServiceError(BAD_USER_INPUT, f"`first` is 0 to {MAX_PAGE}", key="first")
    before = None if after is None else _position(after)
    rows = runtime.require_store().alerts.history(query_of(f), first, before)
    edges = [
        g.AlertEdge(
            cursor=cursor_of([rfc3339(r.created_at), r.id]),
            node=_alert_type(codec.decode(r.payload)),
        )
        for r in rows[:first]
    ]
    return g.AlertConnection(
        edges=edges,
        page_info=g.PageInfo(
            has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
        ),
    )


def _alert_type(a: Alert) -> g.Alert:
    from slarules.graphql.convert import alert_type

    return alert_type(a)


def replay_start(runtime: Any, after: str) -> tuple[datetime | None, tuple[datetime, str] | None]:
    """`after` is an RFC 3339 instant (alerts raised at or after it) or an alert id
    (alerts raised after that one). Worker thread."""
    text = after.strip()
    if len(text) > MAX_CURSOR:
        raise _bad_after(text, f"is longer than {MAX_CURSOR} characters")
    if text[:4].isdigit() and "-" in text:
        try:
            return parse_rfc3339(text), None
        except InvalidInstant as e:
            raise ServiceError(BAD_USER_INPUT, f"`after`: {e}", key="after") from None
    raised = runtime.require_store().alerts.position(text)
    if raised is None:
        raise _bad_after(text, "is neither an RFC 3339 instant nor a stored alert's id")
    return None, (raised, text)


def replayed_before(
    runtime: Any, alert_id: str, start: datetime | None, after: tuple[datetime, str] | None
) -> bool:
    """Was this alert raised before a replay from `start` (inclusive) or strictly after the
    (raised, id) position `after`, i.e. not one the client asked for? (Worker thread.)"""
    raised = runtime.require_store().alerts.position(alert_id)
    if raised is None:
        return False  # not stored: nothing to say it is old
    if after is not None:
        return (raised, alert_id) <= after
    return start is not None and raised < start


async def replay_then_live(
    runtime: Any, f: gi.AlertFilter | None, after: str | None, matches: Any
) -> AsyncGenerator[Alert, None]:
    """The stored alerts after `after`, then the live ones; no gap, no duplicate.

    The live queue is registered before the backlog is read, so an alert raised while the
    backlog is read is queued; ids already sent from the backlog are skipped, and so are
    alerts raised before the replay's start whose broadcast reached the queue late (the
    publish callback runs on the event loop after the commit: `replayed_before`)."""
    live = runtime.broadcaster.subscribe()
    first_live = asyncio.ensure_future(live.__anext__())
    await asyncio.sleep(0)  # the generator registers its queue on its first step
    try:
        sent: set[str] = set()
        begin: tuple[datetime | None, tuple[datetime, str] | None] | None = None  # replay's
        if after is not None:
            q = query_of(f)
            start, position = await run_in_threadpool(replay_start, runtime, after)
            begin = start, position
            store = runtime.require_store().alerts
            while True:
                rows = await run_in_threadpool(store.raised_since, q, start, position, REPLAY_PAGE)
                for r in rows:
                    a = codec.decode(r.payload)
                    sent.add(a.id)
                    if matches(a):
                        yield a
                if len(rows) < REPLAY_PAGE:
                    break
                position = (rows[-1].created_at, rows[-1].id)
        try:
            a = await first_live
        except StopAsyncIteration:
            return
        while True:
            if (
                a.id not in sent
                and matches(a)
                and not (
                    begin is not None
                    and await run_in_threadpool(replayed_before, runtime, a.id, *begin)
                )
            ):
                yield a
            try:
                a = await live.__anext__()
            except StopAsyncIteration:
                return
    finally:
        if not first_live.done():
            first_live.cancel()
        with contextlib.suppress(Exception):
            await live.aclose()
