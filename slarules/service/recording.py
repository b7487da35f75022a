"""The write path: record tickets and events, re-measure, save what the engine computed.

Every change runs in one store transaction: lock the tickets, insert the
input, measure each touched ticket with the live policy, derive its stored
instants and alerts (engine.alerts), save the rows and plan the alerts. A
ticket that cannot be measured never blocks the others in a re-measure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slarules.alerts import codec as alert_codec
from slarules.engine import alerts as rules
from slarules.engine import intake
from slarules.engine.credit import credited_assignees
from slarules.engine.measurement import Measurement
from slarules.engine.policy import Policy, fold
from slarules.engine.ticket import TicketHistory
from slarules.engine.timers import measure
from slarules.errors import (
    EVENT_CONFLICT,
    NOT_FOUND,
    TICKET_EXISTS,
    InputError,
    ServiceError,
    bad_input,
)
from slarules.service.views import EventView, TicketView, appended, view_of
from slarules.store import Store, codec
from slarules.store.rows import Derived, EventRow, TicketHead
from slarules.store.tickets import KEY_COLUMNS, retry_unique

log = logging.getLogger("slarules.service")
LOOK_AGAIN = timedelta(seconds=60)  # a ticket that cannot be measured now: try again then


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One event as an edge received it: ids plus the intake's raw shape."""

    ticket_id: str
    event_id: object
    raw: Mapping[str, Any]


@dataclass
class Hooks:
    """Called after a commit (any thread): alerts raised, stored instants changed."""

    alerts: Callable[[Sequence[rules.Alert]], None] | None = None
    change: Callable[[], None] | None = None
    failed: Callable[[str, Exception], None] | None = None  # a ticket that could not be measured


def measure_at(policy: Policy, h: TicketHistory, now: datetime) -> Measurement:
    """Measure as of `now`, or of creation for a ticket created a little ahead of the clock."""
    return measure(policy, h, max(now, h.created_at))


def history_of(head: TicketHead, rows: Sequence[EventRow]) -> TicketHistory:
    events = tuple(codec.event_from_row(r.event_id, r.at, r.type, r.payload) for r in rows)
    return TicketHistory(head.id, head.created_at, head.initial_fields, events, head.created_by)  # type: ignore[arg-type]


def event_views(rows: Sequence[EventRow]) -> list[EventView]:
    return [
        EventView(r.event_id, r.at, r.type, codec.public_payload(r.type, r.payload)) for r in rows
    ]


def _normal(payload: Mapping[str, Any]) -> Any:
    return json.loads(json.dumps(payload, sort_keys=True))


class Recorder:
    def __init__(self, store: Store, hooks: Hooks, max_age: float, skew: float) -> None:
        self.store = store
        self.hooks = hooks
        self.max_age = max_age
        self.skew = skew

    # -- saving ------------------------------------------------------------------------

    def _persist(
        self,
        policy: Policy,
        cur: Any,
        ms: Sequence[Measurement],
        histories: Mapping[str, TicketHistory],
        previous: Mapping[str, datetime | None],
        now: datetime,
    ) -> tuple[list[rules.Alert], dict[str, list[Any]]]:
        """Save measured tickets and plan their alerts; (raised alerts, each ticket's log)."""
        repo = self.store.tickets
        ids = [m.ticket_id for m in ms]
        logs = repo.evaluations(cur, ids)
        derived = []
        for m in ms:
            later = [e.at for e in histories[m.ticket_id].events if e.at > now]
            new = appended(logs[m.ticket_id], m.evaluations)
            derived.append(
                Derived(
                    m,
                    tuple(rules.breach_instant(c) for c in m.cycles),
                    tuple(rules.next_threshold(c, now) for c in m.cycles),
                    rules.due_key(m),
                    rules.next_wakeup(m, now, later),
                    new,
                    {c: _folded(m.fields.get(c)) for c in KEY_COLUMNS},
                    credited_assignees(policy, histories[m.ticket_id], m),
                )
            )
        repo.save(cur, derived, {t: len(logs[t]) for t in ids}, now)
        wanted: dict[str, tuple[rules.Alert, str]] = {}
        reached: set[str] = set()
        for m in ms:
            raise_, seen = rules.reached(m, previous.get(m.ticket_id), now, self.max_age)
            wanted.update((aid, (a, alert_codec.encode(a))) for aid, a in raise_.items())
            reached |= seen
        raised = self.store.alerts.plan(cur, ids, wanted, reached, now)
        full = {
            d.measurement.ticket_id: [*logs[d.measurement.ticket_id], *d.new_evaluations]
            for d in derived
        }
        return raised, full

    def _committed(self, raised: Sequence[rules.Alert]) -> None:
        if raised and self.hooks.alerts is not None:
            self.hooks.alerts(raised)
        if self.hooks.change is not None:
            self.hooks.change()

    # -- tickets -----------------------------------------------------------------------

    def record_ticket(
        self, policy: Policy, raw: Mapping[str, Any], now: datetime
    ) -> TicketView | str:
        """A new ticket, or the same input again (its id: the caller reads the view)."""
        try:
            t = intake.ticket(policy, raw)
            intake.not_in_future(t.created_at, now, self.skew, "ticket.created_at")
        except InputError as e:
            raise bad_input(e) from None
        return retry_unique(lambda: self._record_ticket(policy, t, now))

    def _record_ticket(self, policy: Policy, t: TicketHistory, now: datetime) -> TicketView | str:
        with self.store.write() as cur:
            old = self.store.tickets.heads(cur, [t.id], lock=True).get(t.id)
            if old is not None:
                same = (
                    old.created_at == t.created_at
                    and old.created_by == t.created_by
                    and _normal(codec.encode_fields(old.initial_fields))
                    == _normal(codec.encode_fields(t.fields))
                )
                if not same:
                    raise ServiceError(
                        TICKET_EXISTS,
                        f"ticket `{t.id}` exists with other input "
                        "(change fields with update events)",
                        ticketId=t.id,
                    )
                return t.id
            try:
                m = measure_at(policy, t, now)
            except InputError as e:
                raise bad_input(e) from None
            head = TicketHead(t.id, t.created_at, t.created_by, dict(t.fields), False, None)
            self.store.tickets.insert_ticket(cur, head, m.ruleset_version)
            raised, logs = self._persist(policy, cur, [m], {t.id: t}, {}, now)
        self._committed(raised)
        return view_of(m, t.created_at, t.created_by, logs[t.id], ())

    # -- events ------------------------------------------------------------------------

    def record_events(
        self, policy: Policy, events: Sequence[RawEvent], now: datetime
    ) -> tuple[int, int, dict[str, TicketView], list[str]]:
        """Apply a batch in one transaction, all events or none: (applied, duplicates,
        views of the re-measured tickets, ids of the other tickets the batch named)."""
        parsed = []
        for i, e in enumerate(events):
            key = f"events[{i}]"
            try:
                eid = intake.event_id(e.event_id, f"{key}.event_id")
                ev = intake.event(policy, e.raw, key, eid)
                intake.not_in_future(ev.at, now, self.skew, f"{key}.at")
            except InputError as err:
                raise bad_input(err) from None
            parsed.append((e.ticket_id, ev, _normal(codec.event_payload(ev))))
        if not parsed:
            return 0, 0, {}, []
        return retry_unique(lambda: self._record_events(policy, parsed, now))

    def _record_events(
        self, policy: Policy, parsed: Sequence[tuple[str, Any, Any]], now: datetime
    ) -> tuple[int, int, dict[str, TicketView], list[str]]:
        repo = self.store.tickets
        ticket_ids = sorted({t for t, _, _ in parsed})
        with self.store.write() as cur:
            heads = repo.heads(cur, ticket_ids, lock=True)
            missing = [t for t in ticket_ids if t not in heads]
            if missing:
                raise ServiceError(
                    NOT_FOUND,
                    f"unknown ticket `{missing[0]}` (record it first)",
                    ticketId=missing[0],
                )
            stored = repo.events(cur, ticket_ids)
            seen = {
                (t, r.event_id): (r.at, r.type, r.payload)
                for t, rows in stored.items()
                for r in rows
            }
            new_rows: list[tuple[str, EventRow]] = []
            batch_index: dict[tuple[str, str], int] = {}
            duplicates = 0
            for i, (t, ev, payload) in enumerate(parsed):
                mine = (ev.at, ev.type, payload)
                old = seen.get((t, ev.event_id))
                if old is not None:
                    if old != mine:
                        raise ServiceError(
                            EVENT_CONFLICT,
                            f"event `{ev.event_id}` of ticket `{t}` was recorded "
                            "with another payload",
                            ticketId=t,
                            eventId=ev.event_id,
                            index=i,
                        )
                    duplicates += 1
                    continue
                seen[(t, ev.event_id)] = mine
                batch_index[(t, ev.event_id)] = i
                row = EventRow(ev.event_id, ev.at, ev.type, payload)
                stored[t].append(row)
                new_rows.append((t, row))
            repo.insert_events(cur, new_rows, now)
            touched = sorted({t for t, _ in new_rows})
            histories, ms = {}, []
            for t in touched:
                stored[t].sort(key=lambda r: r.at)  # the store's order: by `at`, then as recorded
                h = histories[t] = history_of(heads[t], stored[t])
                try:
                    ms.append(measure_at(policy, h, now))
                except InputError as e:
                    raise bad_input(_batch_key(e, t, stored[t], batch_index)) from None
            previous = {t: heads[t].measured_at for t in touched}
            raised, logs = self._persist(policy, cur, ms, histories, previous, now)
        self._committed(raised)
        views = {
            m.ticket_id: view_of(
                m,
                heads[m.ticket_id].created_at,
                heads[m.ticket_id].created_by,
                logs[m.ticket_id],
                event_views(stored[m.ticket_id]),
            )
            for m in ms
        }
        rest = [t for t in ticket_ids if t not in views]
        return len(new_rows), duplicates, views, rest

    # -- re-measuring ---------------------------------------------------------------------

    def remeasure(self, policy: Policy, ids: Iterable[str], now: datetime) -> int:
        """Re-measure open tickets from their events and save them (reload, future events);
        done tickets are left as they are."""
        with self.store.write() as cur:
            heads = self.store.tickets.heads(cur, ids, lock=True, open_only=True)
            raised = self._remeasure(cur, policy, heads, now)
        self._committed(raised)
        return len(heads)

    def remeasure_due(self, policy: Policy, now: datetime, limit: int = 200) -> int:
        """Re-measure the tickets whose stored `next_at` has come (the alert scheduler)."""
        with self.store.write() as cur:
            heads = self.store.tickets.due_heads(cur, now, limit)
            if not heads:
                return 0
            raised = self._remeasure(cur, policy, heads, now)
        self._committed(raised)
        return len(heads)

    def _remeasure(
        self, cur: Any, policy: Policy, heads: Mapping[str, TicketHead], now: datetime
    ) -> list[rules.Alert]:
        rows = self.store.tickets.events(cur, heads)
        histories = {t: history_of(heads[t], rows[t]) for t in heads}
        ms, stuck = [], []
        for t, h in histories.items():
            try:
                ms.append(measure_at(policy, h, now))
            except Exception as e:  # one bad ticket never blocks the others
                stuck.append(t)
                log.warning("cannot measure ticket %s: %s", t, e)
                if self.hooks.failed is not None:
                    self.hooks.failed(t, e)
        previous = {t: heads[t].measured_at for t in heads}
        raised, _ = self._persist(policy, cur, ms, histories, previous, now)
        self.store.tickets.look_again(cur, stuck, now + LOOK_AGAIN)
        return raised


def _folded(value: object) -> str | None:
    return fold(value) if isinstance(value, str) and value else None


def _batch_key(
    e: InputError, ticket_id: str, rows: Sequence[EventRow], batch: Mapping[tuple[str, str], int]
) -> InputError:
    """A replay error names the event by its place in the history: name it by the batch."""
    key = e.key or ""
    if key.startswith("events["):
        j = int(key[7 : key.index("]")])
        i = batch.get((ticket_id, rows[j].event_id)) if j < len(rows) else None
        if i is not None:
            return InputError(e.code, e.message, f"events[{i}]" + key[key.index("]") + 1 :])
    return e
