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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slarules.alerts import codec as alert_codec
from slarules.engine import alerts as rules
from slarules.engine import intake
from slarules.engine.credit import credited_assignees
from slarules.engine.fold import Fold, step
from slarules.engine.measurement import Evaluation, Measurement
from slarules.engine.policy import Policy, cycle_order, fold
from slarules.engine.ticket import TicketHistory
from slarules.engine.timers import fold as fold_history
from slarules.engine.timers import measure, measurement_of, posix
from slarules.errors import (
    EVENT_CONFLICT,
    NOT_FOUND,
    TICKET_EXISTS,
    InputError,
    ServiceError,
    bad_input,
)
from slarules.service import checkpoints
from slarules.service.projections import log_cycle
from slarules.service.views import EventView, TicketView, appended, view_of
from slarules.store import Store, codec, runs
from slarules.store.rows import Derived, EventRow, StoredTicket, TicketHead
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


@dataclass(frozen=True, slots=True)
class Work:
    """One measured ticket to save: its measurement, and how it was made.

    `fold` is the engine state after its events (None: no checkpoint to write);
    `seq` the length of its stored log when `m.evaluations` are only the new runs
    (None: the whole log, compared with the stored one); `partial` when `m.cycles`
    are only the cycles that changed; `seen` the alert ids of the stopped cycles
    the checkpoint remembers; `later` the ticket's events after `now`."""

    m: Measurement
    fold: Fold | None = None
    seq: int | None = None
    partial: bool = False
    seen: tuple[str, ...] = ()
    later: tuple[datetime, ...] = ()
    history: TicketHistory | None = None  # full work: the history it was measured from
    credit: tuple[str | None, ...] | None = None  # each cycle's credited assignee, if known
    run: int | None = None  # where the log's run of this version starts (`checkpoints.run_of`)


def credited_work(policy: Policy, w: Work) -> Work:
    """The same work with its credited assignees worked out and without its history
    (what a worker process sends back: less to pickle, less for the parent to do)."""
    return replace(w, credit=_credited(policy, w), history=None)


def _stopped_seen(m: Measurement, now: datetime) -> list[str]:
    """Alert ids of the reached thresholds of the stopped cycles (they never change)."""
    if m.decision.level is None:
        return []
    return [
        rules.alert_id(m.ticket_id, c.metric, c.started_at, th.kind, th.percent, th.before)
        for c in m.cycles
        if c.stopped_at is not None
        for th in c.thresholds
        if th.reached and th.at is not None and th.at <= now
    ]


def _credited(policy: Policy, w: Work) -> tuple[str | None, ...]:
    """Each cycle's credited assignee (engine.credit). Folded onto a checkpoint, no new
    event changed the assignee, so every changed cycle's assignee is the current one."""
    if w.credit is not None:
        return w.credit
    if w.history is not None:
        return credited_assignees(policy, w.history, w.m)
    now = w.m.fields.get("assignee")
    current = now if isinstance(now, str) and now else None
    return tuple(current for _ in w.m.cycles)


def full_work(policy: Policy, h: TicketHistory, now: datetime) -> Work:
    """Measure a ticket from its whole history (a miss, a reload, an out-of-order event)."""
    when = max(now, h.created_at)
    s, evaluations = fold_history(policy, h, when)
    m = measurement_of(policy, h.id, s, evaluations, when)
    later = tuple(e.at for e in h.events if e.at > now)
    return Work(m, s, later=later, history=h)


def project_stored(
    policy: Policy,
    head: TicketHead,
    point: Any,
    stored: StoredTicket,
    now: datetime,
    detail: bool = True,
) -> Measurement:
    """An open ticket as of `now` without replaying it: its stopped cycles as stored, the
    running ones projected from its checkpoint (what a full measure gives). `detail=False`:
    the running cycles without warnings, timeline and thresholds (`engine.cycles.outcomes`,
    as the stored ones read without their detail)."""
    s, prep = checkpoints.prepared(policy, point.state)  # read-only: not advanced here
    at = max(now, head.created_at)
    m = measurement_of(policy, head.id, s, (), at, cycles=False)
    if detail:
        running = {(c.metric, c.index): c for c in prep.project(posix(at), policy.version)}
    else:
        running = {
            (o.metric, o.index): log_cycle(o, policy.version) for o in prep.outcomes(posix(at))
        }
    merged = [running.pop((c.metric, c.index), c) for c in stored.cycles]
    merged.extend(running.values())
    merged.sort(key=lambda c: cycle_order(c.metric, c.index))
    return Measurement(
        m.ticket_id, m.now, m.ruleset_version, m.decision, m.fields, m.done, tuple(merged), ()
    )


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
        cur: Any,
        policy: Policy,
        work: Sequence[Work],
        previous: Mapping[str, datetime | None],
        now: datetime,
    ) -> list[rules.Alert]:
        """Save measured tickets, their checkpoints, and plan their alerts (the raised ones)."""
        repo = self.store.tickets
        full = [w.m.ticket_id for w in work if w.fold is None or w.seq is None]
        lengths, logs = runs.version_log(self.store.sql, cur, full, policy.version)
        derived, seqs, points, drop = [], {}, [], []
        wanted: dict[str, tuple[rules.Alert, str]] = {}
        reached: set[str] = set()
        for w in work:
            m, t = w.m, w.m.ticket_id
            if w.seq is None:
                new = appended([e for _, e in logs[t]], m.evaluations)
                seqs[t] = lengths[t]
                run = checkpoints.run_start(logs[t], new, m.evaluations, lengths[t])
            else:
                new = m.evaluations
                seqs[t] = w.seq
                run = w.run
            derived.append(
                Derived(
                    m,
                    tuple(rules.breach_instant(c) for c in m.cycles),
                    tuple(rules.next_threshold(c, now) for c in m.cycles),
                    rules.due_key(m),
                    rules.next_wakeup(m, now, w.later),
                    new,
                    {c: _folded(m.fields.get(c)) for c in KEY_COLUMNS},
                    _credited(policy, w),
                    w.partial,
                )
            )
            raise_, seen = rules.reached(m, previous.get(t), now, self.max_age)
            wanted.update((aid, (a, alert_codec.encode(a))) for aid, a in raise_.items())
            reached |= seen | set(w.seen)
            if w.fold is not None and not w.later and not m.done:
                kept = sorted({*w.seen, *_stopped_seen(m, now)})  # a set: one order, any path
                at = datetime.fromtimestamp(w.fold.last, UTC)
                row = checkpoints.row_of(policy, t, w.fold, kept, seqs[t] + len(new), at, run)
                points.append(row)
            else:
                drop.append(t)
        repo.save(cur, derived, seqs, now)
        repo.drop_checkpoints(cur, drop)
        repo.put_checkpoints(cur, points)
        return self.store.alerts.plan(cur, [w.m.ticket_id for w in work], wanted, reached, now)

    def committed(self, raised: Sequence[rules.Alert]) -> None:
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
                w = full_work(policy, t, now)
            except InputError as e:
                raise bad_input(e) from None
            m = w.m
            head = TicketHead(t.id, t.created_at, t.created_by, dict(t.fields), False, None)
            self.store.tickets.insert_ticket(cur, head, m.ruleset_version)
            raised = self._persist(cur, policy, [w], {}, now)
        self.committed(raised)
        return view_of(m, t.created_at, t.created_by, m.evaluations, ())

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
            named = repo.events_named(cur, [(t, ev.event_id) for t, ev, _ in parsed])
            seen = {k: (r.at, r.type, r.payload) for k, r in named.items()}
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
                new_rows.append((t, EventRow(ev.event_id, ev.at, ev.type, payload)))
            repo.insert_events(cur, new_rows, now)
            touched = sorted({t for t, _ in new_rows})
            fresh: dict[str, list[EventRow]] = {t: [] for t in touched}
            for t, row in new_rows:
                fresh[t].append(row)
            points = repo.checkpoints(cur, touched)
            work: list[Work] = []
            slow = []
            for t in touched:
                w = self._resume(policy, heads[t], points.get(t), fresh[t], now)
                if w is None:
                    slow.append(t)
                else:
                    work.append(w)
            stored = repo.events(cur, slow)
            for t in slow:
                try:
                    work.append(full_work(policy, history_of(heads[t], stored[t]), now))
                except InputError as e:
                    raise bad_input(_batch_key(e, t, stored[t], batch_index)) from None
            previous = {t: heads[t].measured_at for t in touched}
            raised = self._persist(cur, policy, work, previous, now)
        self.committed(raised)
        rest = [t for t in ticket_ids]
        return len(new_rows), duplicates, {}, rest

    @staticmethod
    def _resume(
        policy: Policy,
        head: TicketHead,
        point: Any,
        rows: Sequence[EventRow],
        now: datetime,
    ) -> Work | None:
        """Fold new events onto the ticket's checkpoint; None when it cannot (no usable
        checkpoint, an event earlier than the last folded one or after `now`, a change
        of level or target that moves the stopped cycles too)."""
        if not checkpoints.usable(policy, point):
            return None
        when = max(now, head.created_at)
        ordered = sorted(rows, key=lambda r: r.at)  # stable: the store's order
        if ordered[0].at < point.last_at or ordered[-1].at > when:
            return None
        base, seen = checkpoints.from_plain(policy, point.state)
        s = base.copy()
        runs: list[Evaluation] = []
        for r in ordered:
            e = codec.event_from_row(r.event_id, r.at, r.type, r.payload)
            if e.type == "message" and e.by == "customer" and not e.public:
                return None  # the full replay reports it
            if e.type == "update" and ("assignee" in e.set or "assignee" in e.unset):
                return None  # who a cycle is credited to may change: the full path knows
            runs.append(step(policy, s, posix(r.at), e))
        if not checkpoints.resumable(policy, base, s):
            return None
        m = measurement_of(policy, head.id, s, tuple(runs), when)
        return Work(m, s, point.evaluations, True, tuple(seen), run=checkpoints.run_of(point))

    # -- re-measuring ---------------------------------------------------------------------

    def remeasure(self, policy: Policy, ids: Iterable[str], now: datetime) -> int:
        """Re-measure open tickets from their events and save them (reload, future events);
        done tickets are left as they are."""
        with self.store.write() as cur:
            heads = self.store.tickets.heads(cur, ids, lock=True, open_only=True)
            raised = self.remeasure_in(cur, policy, heads, now)
        self.committed(raised)
        return len(heads)

    def remeasure_due(self, policy: Policy, now: datetime, limit: int = 200) -> int:
        """Re-measure the tickets whose stored `next_at` has come (the alert scheduler)."""
        with self.store.write() as cur:
            heads = self.store.tickets.due_heads(cur, now, limit)
            if not heads:
                return 0
            raised = self.remeasure_in(cur, policy, heads, now)
        self.committed(raised)
        return len(heads)

    def remeasure_in(
        self, cur: Any, policy: Policy, heads: Mapping[str, TicketHead], now: datetime
    ) -> list[rules.Alert]:
        rows = self.store.tickets.events(cur, heads)
        return self.save_measured(cur, policy, heads, measure_all(policy, heads, rows, now), now)

    def save_measured(
        self,
        cur: Any,
        policy: Policy,
        heads: Mapping[str, TicketHead],
        measured: Mapping[str, Work | Exception],
        now: datetime,
    ) -> list[rules.Alert]:
        work, stuck = [], []
        for t in heads:
            got = measured[t]
            if isinstance(got, Work):
                work.append(got)
                continue
            stuck.append(t)  # one bad ticket never blocks the others
            log.warning("cannot measure ticket %s: %s", t, got)
            if self.hooks.failed is not None:
                self.hooks.failed(t, got)
        previous = {t: heads[t].measured_at for t in heads}
        raised = self._persist(cur, policy, work, previous, now)
        self.store.tickets.look_again(cur, stuck, now + LOOK_AGAIN)
        return raised


def measure_all(
    policy: Policy,
    heads: Mapping[str, TicketHead],
    rows: Mapping[str, Sequence[EventRow]],
    now: datetime,
) -> dict[str, Work | Exception]:
    """Each ticket measured from its whole history (pure: a worker process may run it);
    a ticket that cannot be measured gets its error instead."""
    out: dict[str, Work | Exception] = {}
    for t, head in heads.items():
        try:
            out[t] = full_work(policy, history_of(head, rows[t]), now)
        except Exception as e:
            out[t] = e
    return out


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
