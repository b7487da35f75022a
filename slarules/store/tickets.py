"""The ticket repository: record tickets and events, rebuild derived rows, load views.

Theory of operation. Events are the source of truth. Every change re-measures
the ticket with the live policy at the request instant and rewrites its
derived rows in the same transaction: the ticket's current fields, level,
`due_key` (earliest due of a running cycle) and `next_at` (earliest
threshold still ahead), its `cycle` rows (state and figures as of that
measurement, plus `breach_at`, the instant an active cycle turns breached if
nothing changes) and its `evaluation` log. Nothing but an event changes
fields or pauses, so the stored rows answer list filters exactly at any
later instant: an `active` cycle whose `breach_at` has passed *is* breached.
Figures that grow with time (elapsed, remaining) are recomputed from events
for the tickets a request actually returns (about 100 µs each). A `done`
ticket keeps the rows measured under the version live when it was last
measured (its cycles are all stopped), so it is read, not recomputed.
Every rewrite also plans the ticket's alerts in the outbox (store/alerts.py)
in the same transaction; `next_at` never points at `now` or earlier, so the
scheduler's index cannot make it spin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from slarules.engine.measurement import (
    Cycle,
    CycleEvent,
    Evaluation,
    Measurement,
    Threshold,
    WarningMark,
)
from slarules.engine.policy import Policy
from slarules.engine.ticket import Event, TicketHistory
from slarules.errors import SlaError
from slarules.store import codec
from slarules.store.alerts import AlertOutbox, PlannedAlert
from slarules.store.records import (
    BAD_USER_INPUT,
    EVENT_CONFLICT,
    NOT_FOUND,
    TICKET_EXISTS,
    EventInput,
    EventView,
    Measure,
    ServiceError,
    TicketInput,
    TicketView,
    ValidateFields,
    bad_input,
    parse_event,
    typed_fields,
    view_from_measurement,
)
from slarules.store.sql import Sql, chunks
from slarules.store.times import FAR_FUTURE, from_db, opt_from_db, rfc3339, to_db

TICKET_COLS = (
    '"id", "created_at", "created_by", "initial_fields", "fields", "level", "decided_by", '
    '"done", "ruleset_version"'
)
CYCLE_INSERT = (
    'INSERT INTO "cycle" ("ticket_id", "metric", "idx", "state", "started_at", "stopped_at", '
    '"due_at", "breached_at", "breach_at", "target", "elapsed", "remaining", "measured_at", '
    '"ruleset_version", "next_at", "warnings", "timeline", "thresholds") '
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
EVAL_INSERT = (
    'INSERT INTO "evaluation" ("ticket_id", "seq", "at", "ruleset_version", "matched", '
    '"level_before", "level_after", "decided_by", "note") VALUES (?,?,?,?,?,?,?,?,?)'
)


@dataclass(frozen=True, slots=True)
class RecordResult:
    applied: int
    duplicates: int
    tickets: tuple[TicketView, ...]


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v != "" else None


def breach_instant(c: Cycle) -> datetime | None:
    """When an active cycle turns breached if nothing changes (None otherwise)."""
    if c.state != "active":
        return None
    for th in c.thresholds:
        if th.kind == "breach" and not th.reached:
            return th.at
    return c.due_at


def next_threshold(c: Cycle, now: datetime) -> datetime | None:
    """The earliest alert threshold of the cycle not yet reached (the scheduler's index)."""
    ahead = [th.at for th in c.thresholds if not th.reached and th.at is not None]
    if not c.thresholds and c.state == "active" and c.due_at is not None and c.due_at > now:
        ahead.append(c.due_at)
    return min(ahead) if ahead else None


def _cycle_json(c: Cycle) -> tuple[str, str, str]:
    warnings = [
        {"metric": w.metric, "at": rfc3339(w.at), "percent": w.percent, "before": w.before}
        for w in c.warnings
    ]
    timeline = [{"kind": e.kind, "at": rfc3339(e.at)} for e in c.timeline]
    thresholds = [
        {
            "kind": th.kind,
            "at": rfc3339(th.at) if th.at else None,
            "reached": th.reached,
            "percent": th.percent,
            "before": th.before,
        }
        for th in c.thresholds
    ]
    return Sql.j(warnings), Sql.j(timeline), Sql.j(thresholds)


def _iso(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s.replace("Z", "+00:00"))


def _instant(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def cycle_from_row(r: Sequence[Any]) -> Cycle:
    """A stored cycle row (see `_CYCLE_SELECT`) → engine Cycle."""
    warnings = tuple(
        WarningMark(
            metric=w["metric"],
            at=_instant(w["at"]),
            percent=w["percent"],
            before=w["before"],
        )
        for w in Sql.unj(r[15])
    )
    timeline = tuple(CycleEvent(kind=e["kind"], at=_instant(e["at"])) for e in Sql.unj(r[16]))
    thresholds = tuple(
        Threshold(
            kind=th["kind"],
            at=_iso(th["at"]),
            reached=th["reached"],
            percent=th["percent"],
            before=th["before"],
        )
        for th in Sql.unj(r[17])
    )
    return Cycle(
        metric=r[1],
        index=r[2],
        state=r[3],
        started_at=from_db(r[4]),
        stopped_at=opt_from_db(r[5]),
        due_at=opt_from_db(r[6]),
        breached_at=opt_from_db(r[7]),
        target=r[8],
        elapsed=r[9],
        remaining=r[10],
        warnings=warnings,
        timeline=timeline,
        ruleset_version=r[11],
        thresholds=thresholds,
    )


_CYCLE_SELECT = (
    'SELECT "ticket_id", "metric", "idx", "state", "started_at", "stopped_at", "due_at", '
    '"breached_at", "target", "elapsed", "remaining", "ruleset_version", "breach_at", '
    '"next_at", "measured_at", "warnings", "timeline", "thresholds" FROM "cycle" '
)


T = TypeVar("T")


def _future_events(histories: Sequence[TicketHistory], now: datetime) -> dict[str, datetime]:
    """The first event after `now` per ticket: the stored state changes then."""
    out = {}
    for h in histories:
        later = [ev.at for ev in h.events if ev.at > now]
        if later:
            out[h.id] = min(later)
    return out


def _is_unique_violation(e: BaseException) -> bool:
    return type(e).__name__ in ("IntegrityError", "UniqueViolation")


def retry_unique(fn: Callable[[], T]) -> T:
    """Run a write once more after a unique violation (a concurrent insert of the same
    ticket or event won the race; the second try sees it as existing)."""
    try:
        return fn()
    except Exception as e:
        if not _is_unique_violation(e):
            raise
    return fn()


class TicketRepository:
    """Tickets, events and their derived rows; every method is sync (run it in a thread)."""

    def __init__(self, sql: Sql, measure: Measure, validate: ValidateFields) -> None:
        self.sql = sql
        self.measure = measure
        self.validate = validate
        self.alerts = AlertOutbox(sql)
        # called after a commit that raised alerts / changed due instants (the scheduler)
        self.on_alerts: Callable[[Sequence[PlannedAlert]], None] | None = None
        self.on_change: Callable[[], None] | None = None

    def _committed(self, raised: Sequence[PlannedAlert]) -> None:
        if raised and self.on_alerts is not None:
            self.on_alerts(raised)
        if self.on_change is not None:
            self.on_change()

    # -- writing ------------------------------------------------------------------

    def _measure(self, policy: Policy, history: TicketHistory, now: datetime) -> Measurement:
        try:
            return self.measure(policy, history, now)
        except SlaError as e:
            raise bad_input(e, f"ticket {history.id}") from None

    def _write_derived(
        self, cur: Any, ms: Sequence[Measurement], now: datetime, future: Mapping[str, datetime]
    ) -> list[PlannedAlert]:
        """Rewrite the derived rows of these measured tickets (one statement per kind) and
        plan their alerts in the same transaction; the alerts newly raised."""
        s = self.sql
        ids = [m.ticket_id for m in ms]
        previous: dict[str, datetime | None] = {}
        for part in chunks(ids):
            s.execute(
                cur,
                f'SELECT "id", "measured_at" FROM "ticket" WHERE "id" IN ({s.marks(len(part))})',
                part,
            )
            previous.update({r[0]: from_db(r[1]) for r in cur.fetchall()})
        raised = self.alerts.plan(cur, ms, previous, now)
        for part in chunks(ids):
            s.execute(cur, f'DELETE FROM "cycle" WHERE "ticket_id" IN ({s.marks(len(part))})', part)
            s.execute(
                cur, f'DELETE FROM "evaluation" WHERE "ticket_id" IN ({s.marks(len(part))})', part
            )
        cycle_rows, eval_rows, ticket_rows = [], [], []
        measured = s.t(now)
        for m in ms:
            dues, nexts = [], []
            for c in m.cycles:
                breach_at = breach_instant(c)
                nxt = next_threshold(c, now)
                if c.stopped_at is None and c.due_at is not None:
                    dues.append(c.due_at)
                if nxt is not None:
                    nexts.append(nxt)
                w, tl, th = _cycle_json(c)
                cycle_rows.append(
                    (
                        m.ticket_id,
                        c.metric,
                        c.index,
                        c.state,
                        s.t(c.started_at),
                        s.t(c.stopped_at),
                        s.t(c.due_at),
                        s.t(c.breached_at),
                        s.t(breach_at),
                        c.target,
                        c.elapsed,
                        c.remaining,
                        measured,
                        c.ruleset_version,
                        s.t(nxt),
                        w,
                        tl,
                        th,
                    )
                )
            for i, ev in enumerate(m.evaluations):
                eval_rows.append(
                    (
                        m.ticket_id,
                        i,
                        s.t(ev.at),
                        ev.ruleset_version,
                        Sql.j(list(ev.matched)),
                        ev.level_before,
                        ev.level_after,
                        ev.decided_by,
                        ev.note,
                    )
                )
            if m.ticket_id in future:
                nexts.append(future[m.ticket_id])
            if nexts and min(nexts) <= now:  # never due again at once: no busy loop
                nexts.append(now + timedelta(seconds=1))
                nexts = [n for n in nexts if n > now]
            f = m.fields
            ticket_rows.append(
                (
                    Sql.j(codec.encode_fields(f)),
                    m.decision.level,
                    m.decision.decided_by,
                    _text(f.get("requester")),
                    _text(f.get("department")),
                    _text(f.get("assignee")),
                    bool(m.done),
                    m.ruleset_version,
                    measured,
                    s.tn(to_db(min(dues))) if dues else s.tn(FAR_FUTURE),
                    s.t(min(nexts)) if nexts else None,
                    m.ticket_id,
                )
            )
        s.executemany(cur, CYCLE_INSERT, cycle_rows)
        s.executemany(cur, EVAL_INSERT, eval_rows)
        s.executemany(
            cur,
            'UPDATE "ticket" SET "fields" = ?, "level" = ?, "decided_by" = ?, "requester" = ?, '
            '"department" = ?, "assignee" = ?, "done" = ?, "ruleset_version" = ?, '
            '"measured_at" = ?, "due_key" = ?, "next_at" = ? WHERE "id" = ?',
            ticket_rows,
        )
        return raised

    def record_ticket(self, policy: Policy, data: TicketInput, now: datetime) -> TicketView:
        return retry_unique(lambda: self._record_ticket(policy, data, now))

    def record_events(
        self, policy: Policy, events: Sequence[EventInput], now: datetime
    ) -> RecordResult:
        """Apply a batch in one transaction: all events or none."""
        return retry_unique(lambda: self._record_events(policy, events, now))

    def remeasure(self, policy: Policy, ids: Sequence[str], now: datetime) -> int:
        """Re-measure tickets from their events and rewrite their derived rows (reload,
        future events, the alert scheduler); done tickets are left as they are."""
        s = self.sql
        with s.write() as cur:
            tickets: dict[str, tuple[datetime, str, dict[str, Any]]] = {}
            for part in chunks(sorted(set(ids))):
                s.execute(
                    cur,
                    'SELECT "id", "created_at", "created_by", "initial_fields" FROM "ticket" '
                    f'WHERE "id" IN ({s.marks(len(part))}) AND NOT "done" ORDER BY "id"' + s.lock,
                    part,
                )
                for r in cur.fetchall():
                    tickets[r[0]] = (from_db(r[1]), r[2], codec.decode_fields(Sql.unj(r[3])))
            histories, _ = self._histories(cur, list(tickets), tickets)
            ms = [self._measure(policy, h, now) for h in histories]
            raised = self._write_derived(cur, ms, now, _future_events(histories, now))
        self._committed(raised)
        return len(ms)

    def remeasure_due(self, policy: Policy, now: datetime, limit: int = 200) -> int:
        """Re-measure the tickets whose stored `next_at` has come (the alert scheduler):
        the `ix_ticket_next_at` index, rows other processes hold are skipped (PostgreSQL)."""
        s = self.sql
        skip = " FOR UPDATE SKIP LOCKED" if s.pg else ""
        with s.write() as cur:
            s.execute(
                cur,
                'SELECT "id", "created_at", "created_by", "initial_fields" FROM "ticket" '
                'WHERE "next_at" <= ? ORDER BY "next_at", "id" LIMIT ?' + skip,
                (s.t(now), limit),
            )
            tickets = {
                r[0]: (from_db(r[1]), r[2], codec.decode_fields(Sql.unj(r[3])))
                for r in cur.fetchall()
            }
            if not tickets:
                return 0
            histories, _ = self._histories(cur, list(tickets), tickets)
            ms = [self._measure_or_none(policy, h, now) for h in histories]
            good = [m for m in ms if m is not None]
            stuck = [h.id for h, m in zip(histories, ms, strict=True) if m is None]
            raised = self._write_derived(cur, good, now, _future_events(histories, now))
            for part in chunks(stuck):  # unmeasurable now: look again in a minute
                s.execute(
                    cur,
                    f'UPDATE "ticket" SET "next_at" = ? WHERE "id" IN ({s.marks(len(part))})',
                    [s.t(now + timedelta(seconds=60)), *part],
                )
        self._committed(raised)
        return len(tickets)

    def open_ids(self) -> list[str]:
        """Every ticket that is not done (a reload re-measures them)."""
        s = self.sql
        with s.read() as cur:
            s.execute(cur, 'SELECT "id" FROM "ticket" WHERE NOT "done" ORDER BY "id"')
            return [r[0] for r in cur.fetchall()]

    def _measure_or_none(
        self, policy: Policy, history: TicketHistory, now: datetime
    ) -> Measurement | None:
        try:
            return self.measure(policy, history, now)
        except SlaError:
            return None

    def _record_ticket(self, policy: Policy, data: TicketInput, now: datetime) -> TicketView:
        if not data.id:
            raise ServiceError(BAD_USER_INPUT, "ticket id is empty", key="input.id")
        fields = typed_fields(self.validate, policy, data.fields, "input.fields")
        fields = {k: v for k, v in fields.items() if v is not None}
        stored = Sql.j(codec.encode_fields(fields))
        s = self.sql
        with s.write() as cur:
            s.execute(
                cur,
                'SELECT "created_at", "created_by", "initial_fields" FROM "ticket" WHERE "id" = ?',
                (data.id,),
            )
            row = cur.fetchone()
            if row is not None:
                same = (
                    from_db(row[0]) == data.created_at
                    and row[1] == data.created_by
                    and Sql.unj(row[2]) == Sql.unj(stored)
                )
                if not same:
                    raise ServiceError(
                        TICKET_EXISTS,
                        f"ticket `{data.id}` exists with other input "
                        "(change fields with update events)",
                        ticketId=data.id,
                    )
                existing = True
            else:
                existing = False
                history = TicketHistory(data.id, data.created_at, fields, (), data.created_by)  # type: ignore[arg-type]
                m = self._measure(policy, history, now)
                s.execute(
                    cur,
                    'INSERT INTO "ticket" ("id", "created_at", "created_by", "initial_fields", '
                    '"fields", "done", "ruleset_version", "measured_at", "due_key") '
                    "VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        data.id,
                        s.t(data.created_at),
                        data.created_by,
                        stored,
                        stored,
                        False,
                        m.ruleset_version,
                        s.t(now),
                        s.tn(FAR_FUTURE),
                    ),
                )
                raised = self._write_derived(cur, [m], now, {})
        if existing:
            return self.load_views(policy, [data.id], now)[data.id]
        self._committed(raised)
        return view_from_measurement(m, data.created_at, data.created_by, ())

    def _record_events(
        self, policy: Policy, events: Sequence[EventInput], now: datetime
    ) -> RecordResult:
        parsed: list[tuple[EventInput, Event, dict[str, Any]]] = []
        for i, e in enumerate(events):
            ev = parse_event(self.validate, policy, e, f"events[{i}]")
            parsed.append((e, ev, codec.event_payload(ev)))
        if not parsed:
            return RecordResult(0, 0, ())
        s = self.sql
        ticket_ids = sorted({e.ticket_id for e, _, _ in parsed})
        with s.write() as cur:
            tickets: dict[str, tuple[datetime, str, dict[str, Any]]] = {}
            for part in chunks(ticket_ids):
                s.execute(
                    cur,
                    'SELECT "id", "created_at", "created_by", "initial_fields" '
                    f'FROM "ticket" WHERE "id" IN ({s.marks(len(part))}) ORDER BY "id"'
                    + s.lock,  # PG: concurrent batches on one ticket queue up here
                    part,
                )
                for r in cur.fetchall():
                    tickets[r[0]] = (from_db(r[1]), r[2], codec.decode_fields(Sql.unj(r[3])))
            missing = [t for t in ticket_ids if t not in tickets]
            if missing:
                raise ServiceError(
                    NOT_FOUND,
                    f"unknown ticket `{missing[0]}` (record it first)",
                    ticketId=missing[0],
                )
            stored = self._event_rows(cur, ticket_ids)
            existing: dict[tuple[str, str], tuple[datetime, str, Any]] = {
                (t, r[0]): (r[1], r[2], r[3]) for t, rows in stored.items() for r in rows
            }
            new_rows: list[tuple[Any, ...]] = []
            applied = duplicates = 0
            recorded = s.t(now)
            for i, (e, ev, payload) in enumerate(parsed):
                key = (e.ticket_id, e.event_id)
                mine = (ev.at, ev.type, Sql.unj(Sql.j(payload)))
                seen = existing.get(key)
                if seen is not None:
                    if seen != mine:
                        raise ServiceError(
                            EVENT_CONFLICT,
                            f"event `{e.event_id}` of ticket `{e.ticket_id}` was recorded "
                            "with another payload",
                            ticketId=e.ticket_id,
                            eventId=e.event_id,
                            index=i,
                        )
                    duplicates += 1
                    continue
                created_at = tickets[e.ticket_id][0]
                if ev.at < created_at:
                    raise ServiceError(
                        BAD_USER_INPUT,
                        f"events[{i}]: event `{e.event_id}` at {rfc3339(ev.at)} is before the "
                        f"ticket's creation ({rfc3339(created_at)})",
                        key=f"events[{i}].at",
                        reason="event-before-creation",
                    )
                existing[key] = mine
                applied += 1
                stored[e.ticket_id].append((e.event_id, ev.at, ev.type, mine[2]))
                new_rows.append(
                    (e.ticket_id, e.event_id, s.t(ev.at), ev.type, Sql.j(payload), recorded)
                )
            s.executemany(
                cur,
                'INSERT INTO "event" ("ticket_id", "event_id", "at", "type", "payload", '
                '"recorded_at") VALUES (?,?,?,?,?,?)',
                new_rows,
            )
            touched = sorted({r[0] for r in new_rows})
            for t in touched:  # the store's order: by `at`, then as recorded
                stored[t].sort(key=lambda r: r[1])
            histories, event_views = self._histories_of({t: stored[t] for t in touched}, tickets)
            ms = [self._measure(policy, h, now) for h in histories]
            raised = self._write_derived(cur, ms, now, _future_events(histories, now))
        self._committed(raised)
        by_id = {
            m.ticket_id: view_from_measurement(
                m, tickets[m.ticket_id][0], tickets[m.ticket_id][1], event_views[m.ticket_id]
            )
            for m in ms
        }
        rest = [t for t in ticket_ids if t not in by_id]
        if rest:
            by_id.update(self.load_views(policy, rest, now))
        return RecordResult(applied, duplicates, tuple(by_id[t] for t in ticket_ids))

    def _event_rows(
        self, cur: Any, ids: Sequence[str]
    ) -> dict[str, list[tuple[str, datetime, str, Any]]]:
        """Each ticket's stored events (event id, at, type, payload) by `at`, then as recorded."""
        s = self.sql
        out: dict[str, list[tuple[str, datetime, str, Any]]] = {t: [] for t in ids}
        for part in chunks(list(ids)):
            s.execute(
                cur,
                'SELECT "ticket_id", "event_id", "at", "type", "payload" FROM "event" '
                f'WHERE "ticket_id" IN ({s.marks(len(part))}) ORDER BY "ticket_id", "at", "id"',
                part,
            )
            for r in cur.fetchall():
                out[r[0]].append((r[1], from_db(r[2]), r[3], Sql.unj(r[4])))
        return out

    def _histories(
        self,
        cur: Any,
        ids: Sequence[str],
        tickets: Mapping[str, tuple[datetime, str, dict[str, Any]]],
    ) -> tuple[list[TicketHistory], dict[str, list[EventView]]]:
        return self._histories_of(self._event_rows(cur, ids), tickets)

    @staticmethod
    def _histories_of(
        rows: Mapping[str, Sequence[tuple[str, datetime, str, Any]]],
        tickets: Mapping[str, tuple[datetime, str, dict[str, Any]]],
    ) -> tuple[list[TicketHistory], dict[str, list[EventView]]]:
        histories: list[TicketHistory] = []
        views: dict[str, list[EventView]] = {}
        for t, evs in rows.items():
            created_at, created_by, initial = tickets[t]
            events = tuple(codec.event_from_row(i, at, ty, p) for i, at, ty, p in evs)
            histories.append(TicketHistory(t, created_at, initial, events, created_by))  # type: ignore[arg-type]
            views[t] = [EventView(i, at, ty, codec.public_payload(ty, p)) for i, at, ty, p in evs]
        return histories, views

    # -- reading -------------------------------------------------------------------

    def load_views(
        self, policy: Policy, ids: Iterable[str], now: datetime
    ) -> dict[str, TicketView]:
        """Tickets by id as of `now`: open ones re-measured from events, done ones as stored."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        s = self.sql
        rows: dict[str, Any] = {}
        with s.read() as cur:
            for part in chunks(wanted):
                s.execute(
                    cur,
                    f'SELECT {TICKET_COLS}, "fields" FROM "ticket" '
                    f'WHERE "id" IN ({s.marks(len(part))})',
                    part,
                )
                for r in cur.fetchall():
                    rows[r[0]] = r
            found = list(rows)
            tickets = {
                t: (from_db(rows[t][1]), rows[t][2], codec.decode_fields(Sql.unj(rows[t][3])))
                for t in found
            }
            histories, event_views = self._histories(cur, found, tickets)
            done = [t for t in found if rows[t][7]]
            stored_cycles: dict[str, list[Cycle]] = {t: [] for t in done}
            stored_evals: dict[str, list[Evaluation]] = {t: [] for t in done}
            for part in chunks(done):
                s.execute(
                    cur,
                    _CYCLE_SELECT + f'WHERE "ticket_id" IN ({s.marks(len(part))}) '
                    'ORDER BY "ticket_id", "id"',
                    part,
                )
                for r in cur.fetchall():
                    stored_cycles[r[0]].append(cycle_from_row(r))
                s.execute(
                    cur,
                    'SELECT "ticket_id", "at", "ruleset_version", "matched", '
                    '"level_before", "level_after", "decided_by", "note" FROM "evaluation" '
                    f'WHERE "ticket_id" IN ({s.marks(len(part))}) ORDER BY "ticket_id", "seq"',
                    part,
                )
                for r in cur.fetchall():
                    stored_evals[r[0]].append(
                        Evaluation(
                            at=from_db(r[1]),
                            ruleset_version=r[2],
                            matched=tuple(Sql.unj(r[3])),
                            level_before=r[4],
                            level_after=r[5],
                            decided_by=r[6],
                            note=r[7],
                        )
                    )
        out: dict[str, TicketView] = {}
        for h in histories:
            r = rows[h.id]
            if r[7]:
                cycles = stored_cycles[h.id]  # in measurement order (row ids)
                out[h.id] = TicketView(
                    id=h.id,
                    created_at=h.created_at,
                    created_by=h.created_by,
                    fields=codec.decode_fields(Sql.unj(r[4])),
                    level=r[5],
                    decided_by=r[6],
                    done=True,
                    ruleset_version=r[8],
                    cycles=tuple(cycles),
                    evaluations=tuple(stored_evals[h.id]),
                    events=tuple(event_views[h.id]),
                )
            else:
                m = self._measure(policy, h, now)
                out[h.id] = view_from_measurement(m, h.created_at, h.created_by, event_views[h.id])
        return out

    def counts(self) -> dict[str, int]:
        """Row counts per table (health and tests)."""
        s = self.sql
        out = {}
        with s.read() as cur:
            for table in ("ticket", "event", "cycle", "evaluation", "ruleset", "alert"):
                s.execute(cur, f'SELECT COUNT(*) FROM "{table}"')
                out[table] = int(cur.fetchone()[0])
        return out
