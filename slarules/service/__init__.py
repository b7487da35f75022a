"""EDGE: the one caller of the engine for stored tickets.

GraphQL resolvers, the plain HTTP endpoints, the alert scheduler and reloads
call `TicketService`; none of them measures a ticket or builds SQL itself.
Every method is synchronous (run it in a thread from async code) and takes
the policy and the instant `now` as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from slarules.engine import intake
from slarules.engine.cancel import NEVER, Cancel
from slarules.engine.measurement import Measurement
from slarules.engine.policy import Policy, RuleTrace, fold
from slarules.engine.reports import DIMENSIONS, ComplianceRow, Dimension, LogRow, log_row
from slarules.engine.timers import measure
from slarules.errors import BAD_USER_INPUT, InputError, ServiceError, bad_input
from slarules.service import checkpoints, exports
from slarules.service.projections import running_now
from slarules.service.recording import (
    Hooks,
    RawEvent,
    Recorder,
    event_views,
    history_of,
    measure_at,
    project_stored,
)
from slarules.service.restamp import remeasure_since
from slarules.service.views import EventView, LogPage, RecordResult, TicketView, view_of
from slarules.store import Store
from slarules.store.queries import LogFilter, Page, TicketFilter
from slarules.store.walks import plain_text

__all__ = [
    "EventView",
    "Hooks",
    "LogFilter",
    "LogPage",
    "RawEvent",
    "RecordResult",
    "TicketFilter",
    "TicketService",
    "TicketView",
]


def _fold_filter(f: Any) -> Any:
    """Text filters compare the way the rules do: case-folded."""
    from dataclasses import replace

    return replace(
        f,
        department=None if f.department is None else fold(f.department),
        assignee=None if f.assignee is None else fold(f.assignee),
    )


class TicketService:
    def __init__(self, store: Store, *, max_age: float = 86_400.0, skew: float = 300.0) -> None:
        self.store = store
        self.hooks = Hooks()
        self.recorder = Recorder(store, self.hooks, max_age, skew)

    # -- writing -------------------------------------------------------------------------

    def record_ticket(self, policy: Policy, raw: Mapping[str, Any], now: datetime) -> TicketView:
        """Create a ticket (raw shape of `engine.intake.ticket`); the same input again is a
        no-op that returns the ticket as it is now."""
        got = self.recorder.record_ticket(policy, raw, now)
        return self.views(policy, [got], now)[got] if isinstance(got, str) else got

    def record_events(
        self, policy: Policy, events: Sequence[RawEvent], now: datetime, views: bool = True
    ) -> RecordResult:
        """Apply a batch in one transaction: all events or none. `views=False` when the
        caller does not show the tickets (no views are read)."""
        applied, duplicates, views_, rest = self.recorder.record_events(policy, events, now)
        if not views:
            return RecordResult(applied, duplicates, ())
        if rest:
            views_.update(self.views(policy, rest, now))
        order = list(dict.fromkeys(e.ticket_id for e in events))
        return RecordResult(applied, duplicates, tuple(views_[t] for t in order if t in views_))

    def remeasure(
        self,
        policy: Policy,
        ids: Iterable[str],
        now: datetime,
        previous: Policy | None = None,
    ) -> int:
        """Re-measure open tickets under `policy`. After a reload from `previous`, the
        tickets the change cannot touch (`engine.impact`) are restamped, not replayed
        (`service.restamp`): the same rows either way."""
        if previous is None:
            return self.recorder.remeasure(policy, ids, now)
        return remeasure_since(self.recorder, previous, policy, ids, now)

    def remeasure_due(self, policy: Policy, now: datetime, limit: int = 200) -> int:
        return self.recorder.remeasure_due(policy, now, limit)

    def open_ids(self) -> list[str]:
        return self.store.tickets.open_ids()

    # -- reading -------------------------------------------------------------------------

    def views(
        self,
        policy: Policy,
        ids: Iterable[str],
        now: datetime,
        history: bool = True,
        detail: bool = True,
    ) -> dict[str, TicketView]:
        """Tickets by id as of `now`: done ones as stored; open ones from their stored rows
        with the running cycles projected to `now` from the checkpoint (the engine's
        projection, `engine.timers.measurement_of`), or measured from their events when
        there is no usable checkpoint. `history=False`: without their events and
        evaluation logs (views for a caller that shows neither; they are not read).
        `detail=False`: stored cycles without warnings, timeline and thresholds (their JSON
        is not decoded; for a caller that shows none of them)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        repo = self.store.tickets
        with self.store.read() as cur, plain_text(cur, self.store.sql):
            # the fields a ticket was created with only for the tickets measured here
            heads, points = repo.heads_and_checkpoints(cur, wanted)
            # a checkpoint holds every event up to its last: not a view before that instant
            points = {
                t: p
                for t, p in points.items()
                if checkpoints.usable(policy, p) and max(now, heads[t].created_at) >= p.last_at
            }
            measured = [t for t, h in heads.items() if not h.done and t not in points]
            if measured:
                heads.update(repo.heads(cur, measured))
            rows = repo.events(cur, heads if history else measured)
            logs = repo.evaluations(cur, heads if history else measured)
            stored = repo.stored(
                cur,
                [h for h in heads.values() if h.done or h.id in points],
                stopped_only=points,
                detail=detail,
            )
        out: dict[str, TicketView] = {}
        for t in wanted:
            h = heads.get(t)
            if h is None:
                continue
            evs = event_views(rows[t]) if history else []
            st = stored.get(t)
            if st is not None and h.done:
                out[t] = TicketView(
                    t,
                    h.created_at,
                    h.created_by,
                    st.fields,
                    st.level,
                    st.decided_by,
                    True,
                    st.ruleset_version,
                    st.cycles,
                    tuple(logs[t]) if history else (),
                    tuple(evs),
                )
                continue
            try:
                if st is not None and t in points:
                    m = project_stored(policy, h, points[t], st, now, detail)
                else:
                    m = measure_at(policy, history_of(h, rows[t]), now)
            except InputError as e:
                raise bad_input(e, f"ticket {t}") from None
            out[t] = view_of(m, h.created_at, h.created_by, logs.get(t, ()), evs, history)
        return out

    def ticket_page(
        self,
        policy: Policy,
        f: TicketFilter,
        first: int,
        after: str | None,
        now: datetime,
        count: bool = True,
        history: bool = True,
        detail: bool = True,
    ) -> tuple[Page, list[TicketView]]:
        """A keyset page of tickets and their views (`history`, `detail`: see `views`)."""
        with self.store.session():  # the page's reads in one session
            page = self.store.queries.tickets(_fold_filter(f), first, after, now, count)
            views = self.views(policy, page.ids, now, history, detail)
        return page, [views[i] for i in page.ids if i in views]

    def _current(
        self, policy: Policy, rows: Sequence[tuple[LogRow, bool]], now: datetime
    ) -> list[LogRow]:
        """Bring the figures of running cycles up to `now`: projected from the checkpoint
        of each open ticket with a running cycle among `rows` (its stopped cycles stand
        as stored), or from its view when it has no usable checkpoint (all of its rows,
        as that view shows them). Done tickets stay as stored."""
        open_ids = list(
            dict.fromkeys(r.ticket_id for r, done in rows if not done and r.stopped_at is None)
        )
        if not open_ids:
            return [r for r, _ in rows]
        # the cycles of these tickets that rows show: the only ones projected
        wanted: dict[str, set[tuple[str, int]]] = {t: set() for t in open_ids}
        for r, done in rows:
            if not done and r.ticket_id in wanted:
                wanted[r.ticket_id].add((r.metric, r.index))
        fast, rest = running_now(self.store, policy, open_ids, now, wanted)
        views = self.views(policy, rest, now, history=False) if rest else {}
        out = []
        for r, done in rows:
            p = None if done else fast.get(r.ticket_id)
            if p is not None:
                c = p.cycles.get((r.metric, r.index))
                out.append(
                    r
                    if c is None or p.level is None
                    else log_row(r.ticket_id, p.level, c, p.fields)
                )
                continue
            v = None if done else views.get(r.ticket_id)
            if v is not None and v.level is not None:
                c = next((c for c in v.cycles if c.metric == r.metric and c.index == r.index), None)
                if c is not None:
                    out.append(log_row(r.ticket_id, v.level, c, v.fields))
                    continue
            out.append(r)
        return out

    def sla_log(
        self,
        policy: Policy,
        f: LogFilter,
        first: int,
        after: str | None,
        now: datetime,
        count: bool = True,
    ) -> LogPage:
        with self.store.session():  # the page's reads in one session
            rows, cursors, has_next, total = self.store.queries.sla_log(
                _fold_filter(f), first, after, now, count
            )
            current = self._current(policy, rows, now)
        return LogPage(tuple(current), cursors, has_next, total)

    def iter_log(self, policy: Policy, f: LogFilter, now: datetime) -> Iterator[list[LogRow]]:
        """The whole SLA log in chunks (keyset reads; constant memory)."""
        for chunk in self.store.queries.iter_log(_fold_filter(f), now):
            yield self._current(policy, chunk, now)

    def log_csv(
        self, policy: Policy, f: LogFilter, now: datetime, chunk: int = 2000
    ) -> Iterator[str]:
        """The SLA log as CSV text (header first), streamed in keyset chunks; the first
        chunk is read by the first `next`, so a bad filter raises there."""
        chunks = self.store.queries.iter_log_raw(_fold_filter(f), now, chunk)
        return exports.log_csv(chunks, lambda rows: self._current(policy, rows, now))

    def compliance(
        self,
        policy: Policy,
        start: datetime,
        end: datetime,
        group_by: Sequence[str],
        now: datetime,
        f: LogFilter | None = None,
        cancel: Cancel = NEVER,
    ) -> list[ComplianceRow]:
        """The compliance report of the cycles (matching `f`) started in [start, end).

        The database sums the cycles finished for good; running cycles breached as of
        `now` are brought up to `now` here (their elapsed time grows) and added.
        `cancel` is polled after each query and per batch of running cycles.
        """
        if end <= start:
            raise ServiceError(BAD_USER_INPUT, "`to` must be after `from`", key="to")
        for dim in group_by:
            if dim not in DIMENSIONS:
                raise ServiceError(
                    BAD_USER_INPUT,
                    f"unknown compliance dimension `{dim}` ({', '.join(DIMENSIONS)})",
                    key="groupBy",
                )
        dims: list[Dimension] = [d for d in DIMENSIONS if d in group_by]
        lf = _fold_filter(f or LogFilter())
        q = self.store.queries
        groups = q.compliance_groups(lf, start, end, dims, policy.timezone, now)
        cancel.check()
        running = q.running_breached(lf, start, end, now)
        for i in range(0, len(running), 500):
            cancel.check()
            rows = self._current(policy, running[i : i + 500], now)
            groups.add_rows(rows, start, end, dims, policy.timezone)
        return groups.rows(dims)

    def cycle_states(self, now: datetime) -> dict[str, int]:
        return self.store.queries.cycle_states(now)

    def next_wakeup(self) -> datetime | None:
        return self.store.queries.next_wakeup()

    # -- dry runs ------------------------------------------------------------------------

    @staticmethod
    def explain(
        policy: Policy,
        raw_ticket: Mapping[str, Any],
        raw_events: Sequence[Any],
        now: datetime,
        cancel: Cancel = NEVER,
    ) -> tuple[Measurement, tuple[RuleTrace, ...]]:
        """Measure a ticket that is not stored (same intake as recording): the measurement
        and the latest run of the rules with every condition's value. `cancel` is polled
        per event (`Cancelled` comes out unchanged)."""
        try:
            h = intake.history(policy, raw_ticket, list(raw_events))
            m = measure(policy, h, now, cancel)
        except InputError as e:
            raise bad_input(e) from None
        return m, policy.explain(m.fields).trace
