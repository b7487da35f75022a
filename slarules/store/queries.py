"""List queries over the derived rows: tickets by due, the SLA log, compliance input.

Filters run in SQL on indexed columns; state is read "as of now" from the
stored rows by `engine.alerts.effective_state`, stated in SQL once here
(`BREACHED_NOW`). Text filters compare the case-folded `_key` columns with
values the caller folded. Rows come back as stored: the service brings the
figures of open tickets up to `now`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slarules.engine.reports import Dimension, Groups, LogRow
from slarules.errors import BAD_USER_INPUT, ServiceError
from slarules.store import logplans as lp
from slarules.store.compliance import finished_groups, running_breached_where
from slarules.store.exportrows import CYCLE_LOG_SELECT, with_tickets
from slarules.store.filters import (
    BREACHED_NOW,
    DENSE_MATCHES,
    STATES,
    LogFilter,
    Page,
    SortKey,
    TicketFilter,
    Where,
    check_metric,
    effective_state_sql,
    log_sort,
    state_sql,
    text_filters,
    ticket_sort,
)
from slarules.store.logrows import DONE, LOG_SELECT, log_row_of, page_first
from slarules.store.sql import Sql
from slarules.store.times import opt_from_db
from slarules.store.walks import Cursors, key_value, plain_text, unindexed, walking

# sorts an index walks in order (a filtered page may instead collect and sort: logplans)
WALKABLE = frozenset({"started_at", "ticket_id", "due_at", "stopped_at"})
FEW_TICKETS = 500  # SQLite: at most this many tickets meet a page's ticket conditions: sort them
INDEXED_SORTS = frozenset({"due", "id", "created_at"})  # ticket sorts an index walks in order


class Queries:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self._tickets = lp.TicketEstimate()  # PostgreSQL: the plan of a log page

    # -- tickets ---------------------------------------------------------------------

    def _ticket_where(self, f: TicketFilter, now: datetime) -> tuple[Where, Where]:
        """Conditions on the ticket row, and on one of its cycles."""
        s = self.sql
        w = Where()
        text_filters(f, w, s)
        if f.has_sla is not None:
            w.add('t."level" IS NOT NULL' if f.has_sla else 't."level" IS NULL')
        if f.created_from is not None:
            w.add('t."created_at" >= ?', s.t(f.created_from))
        if f.created_to is not None:
            w.add('t."created_at" < ?', s.t(f.created_to))
        check_metric(f.metric)
        cw = Where()
        if f.metric is not None:
            # SQLite has no histograms: with an open state (few cycles at a year of tickets)
            # let the state index drive, not the metric's
            weak = not s.pg and f.state in ("active", "paused")
            cw.add(f'{"+" if weak else ""}c."metric" = ?', f.metric)
        if f.state is not None:
            state_sql(f.state, s, now, cw)
        if f.due_before is not None:
            cw.add('c."due_at" < ?', s.t(f.due_before))
        if f.due_after is not None:
            cw.add('c."due_at" >= ?', s.t(f.due_after))
        if f.breached_from is not None or f.breached_to is not None:
            eff = (
                f'(CASE WHEN {BREACHED_NOW.format(c="c")} THEN c."due_at" ELSE c."breached_at" END)'
            )
            if f.breached_from is not None:
                cw.add(f"{eff} >= ?", s.t(now), s.t(f.breached_from))
            if f.breached_to is not None:
                cw.add(f"{eff} < ?", s.t(now), s.t(f.breached_to))
        return w, cw

    def tickets(
        self, f: TicketFilter, first: int, after: str | None, now: datetime, count: bool = True
    ) -> Page:
        """Ticket ids sorted by `f.order_by` (default: the earliest due of a running cycle),
        keyset pages; `total` is -1 unless `count`.

        Cycle conditions pick the page plan by how many tickets they match (a bounded
        probe): few → collect them through the cycle indexes and sort; many → walk the
        sort index and probe each ticket's cycles, stopping after one page.
        """
        if not 0 <= first <= 500:
            raise ServiceError(BAD_USER_INPUT, "`first` must be between 0 and 500", key="first")
        s = self.sql
        key = ticket_sort(f)
        tw, cw = self._ticket_where(f, now)
        conds = " AND ".join(cw.parts)
        total = self._ticket_count(tw, cw) if count else -1
        # SQLite walks the sort index (or scans the table) even when the ticket conditions
        # match few rows (a page of `level: none` read every ticket): those few are found
        # through their own index by rowid and sorted (sort columns kept from the index
        # choice by `+`)
        few = not s.pg and bool(tw.parts) and self._few_ticket_matches(tw)
        if few:
            w = Where([f't.rowid IN (SELECT t.rowid FROM "ticket" t{tw.sql()})'], list(tw.params))
        elif not s.pg and key.name in INDEXED_SORTS:
            # many: walk the sort index (without statistics of the filter's index, SQLite
            # took it for a selective one and sorted its every match)
            w = Where([unindexed(p) for p in tw.parts], list(tw.params))
        else:
            w = Where(list(tw.parts), list(tw.params))
        if cw.parts:
            if self._few_cycle_matches(cw, self._state_where(f, now)):
                w.add(f't."id" IN (SELECT c."ticket_id" FROM "cycle" c WHERE {conds})', *cw.params)
            else:
                w.add(
                    f'EXISTS (SELECT 1 FROM "cycle" c WHERE c."ticket_id" = t."id" AND {conds})',
                    *cw.params,
                )
        cols, cparams = key.columns_sql()
        rows: list[Any] = []
        with s.read() as cur:
            for ph in key.phases(after, s):
                if len(rows) > first:
                    break
                where = Where(list(w.parts), list(w.params))
                order = ph.order
                if few:
                    where.extend(Where([unindexed(p) for p in ph.where.parts], ph.where.params))
                    order = unindexed(order)
                else:
                    where.extend(ph.where)
                s.execute(
                    cur,
                    f'SELECT t."id", {cols} FROM "ticket" t{where.sql()} {order} LIMIT ?',
                    [*cparams, *where.params, *ph.params, first + 1 - len(rows)],
                )
                rows.extend(cur.fetchall())
        has_next = len(rows) > first
        rows = rows[:first]
        cursors = tuple(key.cursor([key_value(v) for v in r[1:]]) for r in rows)
        return Page(tuple(r[0] for r in rows), cursors, has_next, total)

    def _ticket_count(self, tw: Where, cw: Where) -> int:
        conds = " AND ".join(cw.parts)
        if cw.parts and not tw.parts:
            text = f'SELECT COUNT(DISTINCT c."ticket_id") FROM "cycle" c WHERE {conds}'
            params = list(cw.params)
        else:
            w = Where(list(tw.parts), list(tw.params))
            if cw.parts:
                w.add(f't."id" IN (SELECT c."ticket_id" FROM "cycle" c WHERE {conds})', *cw.params)
            text, params = 'SELECT COUNT(*) FROM "ticket" t' + w.sql(), list(w.params)
        with self.sql.read() as cur:
            self.sql.execute(cur, text, params)
            return int(cur.fetchone()[0])

    def _few_ticket_matches(self, tw: Where) -> bool:
        """At most FEW_TICKETS tickets meet the ticket-row conditions (reads at most that many)."""
        text = f'SELECT COUNT(*) FROM (SELECT 1 FROM "ticket" t{tw.sql()} LIMIT ?) x'
        with self.sql.read() as cur:
            self.sql.execute(cur, text, [*tw.params, FEW_TICKETS + 1])
            return int(cur.fetchone()[0]) <= FEW_TICKETS

    def _state_where(self, f: TicketFilter, now: datetime) -> Where:
        """The state condition of a ticket filter alone (empty without one)."""
        w = Where()
        if f.state is not None:
            state_sql(f.state, self.sql, now, w)
        return w

    def _few_cycle_matches(self, cw: Where, sw: Where) -> bool:
        """At most DENSE_MATCHES tickets have a matching cycle (reads at most that many).
        With other conditions beside the state (`sw`), the cycles in that state are counted
        first, on their index alone: at most that many, the other conditions only drop some
        (the open states hold few cycles at a year of tickets)."""
        # cycles bound the tickets from above; no DISTINCT, which would walk ix_cycle_ticket
        for w in ([sw] if sw.parts and len(sw.parts) < len(cw.parts) else []) + [cw]:
            conds = " AND ".join(w.parts)
            text = f'SELECT COUNT(*) FROM (SELECT 1 FROM "cycle" c WHERE {conds} LIMIT ?) x'
            with self.sql.read() as cur:
                self.sql.execute(cur, text, [*w.params, DENSE_MATCHES + 1])
                if int(cur.fetchone()[0]) <= DENSE_MATCHES:
                    return True
        return False

    # -- for the alert scheduler (issue 6) ------------------------------------------------

    def next_wakeup(self) -> datetime | None:
        """The earliest stored threshold or future event instant of any ticket (indexed)."""
        with self.sql.read() as cur:
            self.sql.execute(cur, 'SELECT MIN("next_at") FROM "ticket"')
            value = cur.fetchone()[0]
        return opt_from_db(value)

    # -- SLA log -----------------------------------------------------------------------

    def _log_where(self, f: LogFilter, now: datetime) -> Where:
        s = self.sql
        w = Where()
        text_filters(f, w, s)
        check_metric(f.metric)
        if f.metric is not None:
            w.add('c."metric" = ?', f.metric)
        if f.state is not None:
            state_sql(f.state, s, now, w)
        if f.started_from is not None:
            w.add('c."started_at" >= ?', s.t(f.started_from))
        if f.started_to is not None:
            w.add('c."started_at" < ?', s.t(f.started_to))
        return w

    def sla_log(
        self, f: LogFilter, first: int, after: str | None, now: datetime, count: bool = True
    ) -> tuple[list[tuple[LogRow, bool]], tuple[str, ...], bool, int]:
        """One keyset page of SLA-log rows as stored, with each row's ticket `done` flag:
        (rows, cursors, has next page, total; -1 unless `count`)."""
        if not 0 <= first <= 1000:
            raise ServiceError(BAD_USER_INPUT, "`first` must be between 0 and 1000", key="first")
        rows, cursors = self._log_page(f, now, first + 1, after)
        has_next = len(rows) > first
        total = self._log_count(f, now) if count else -1
        return rows[:first], cursors.first(first), has_next, total

    def _log_page(
        self, f: LogFilter, now: datetime, limit: int, after: str | None
    ) -> tuple[list[tuple[LogRow, bool]], Cursors]:
        key, raw, _ = self._log_raw(f, now, limit, after)
        rows = [(log_row_of(r), bool(r[DONE])) for r in raw]
        return rows, Cursors(key, raw, DONE + 1)

    def _log_raw(
        self,
        f: LogFilter,
        now: datetime,
        limit: int,
        after: str | None,
        plan: lp.Plan | None = None,
        tickets: dict[str, Sequence[Any]] | None = None,
    ) -> tuple[SortKey, list[Any], lp.Plan]:
        """One keyset page of driver tuples (`LOG_SELECT`'s columns, then the sort key's),
        and the plan it took (`plan`: given, the chunks of an export keep the first's)."""
        s = self.sql
        key = log_sort(f, s, now)
        w = self._log_where(f, now)
        if s.pg:
            if plan is None:
                walks = key.name in WALKABLE  # a cycle column: the page need not read t
                plan = lp.pg_log_plan(s, w, self._tickets) if walks else lp.WALK
            if plan == lp.HASHED:
                w = lp.hashed_ids(w)
        elif key.name not in WALKABLE or all(p.startswith(key.expr) for p in w.parts):
            plan = lp.WALK  # no choice to make: a range of the sort key walks its index
        elif key.name == "started_at" and f.state in lp.RUNNING_STATES:
            plan = lp.RUNNING  # the running cycles' own index, in order
        elif plan is None:
            # SQLite has no value histograms: say which index drives the page. Few
            # matches: collect them by the filter's index and sort; many: walk the sort
            # index (the filter terms kept from the index choice by a unary `+`).
            plan = lp.log_plan(s, w)
        collect = plan == lp.COLLECT
        if w.parts and not collect and not s.pg and key.name in WALKABLE:
            w = walking(w, key.expr, by_list=plan == lp.LIST)
        indexed = ""
        if plan == lp.RUNNING:
            indexed, term = lp.RUNNING_INDEX
            w.add(term)
        cols, cparams = key.columns_sql()
        # no ticket column in the filter or the sort: an export reads the cycles alone, and
        # a PostgreSQL page joins only its own cycles to their tickets (`page_first`)
        cycles_only = 't."' not in w.sql() + cols + key.expr
        split = tickets is not None and cycles_only
        first = s.pg and cycles_only and not split
        raw: list[Any] = []
        with s.read() as cur, plain_text(cur, s):
            for ph in key.phases(after, s):
                if len(raw) >= limit:
                    break
                where = Where(list(w.parts), list(w.params))
                where.extend(ph.where)
                order = unindexed(ph.order) if collect else ph.order
                if first:
                    lim = limit - len(raw)
                    params = [s.t(now), *cparams, *where.params, *ph.params, lim, *ph.params]
                    s.execute(cur, page_first(cols, where, order), params)
                    raw.extend(cur.fetchall())
                    continue
                if split:
                    text = f'SELECT {CYCLE_LOG_SELECT}, {cols} FROM "cycle" c{indexed}{where.sql()}'
                else:
                    text = (
                        f'SELECT {LOG_SELECT}, {cols} FROM "cycle" c{indexed} '
                        f'JOIN "ticket" t ON t."id" = c."ticket_id"{where.sql()}'
                    )
                params = [s.t(now), *cparams, *where.params, *ph.params, limit - len(raw)]
                s.execute(cur, f"{text} {order} LIMIT ?", params)
                got = cur.fetchall()
                if split:
                    assert tickets is not None
                    got = with_tickets(s, cur, got, tickets)
                raw.extend(got)
        return key, raw, plan

    def _log_count(self, f: LogFilter, now: datetime) -> int:
        w = self._log_where(f, now)
        where = w.sql()
        join = ' JOIN "ticket" t ON t."id" = c."ticket_id"' if 't."' in where else ""
        with self.sql.read() as cur:
            self.sql.execute(cur, f'SELECT COUNT(*) FROM "cycle" c{join}{where}', w.params)
            return int(cur.fetchone()[0])

    def iter_log(
        self, f: LogFilter, now: datetime, chunk: int = 1000
    ) -> Iterator[list[tuple[LogRow, bool]]]:
        """Every SLA-log row as stored (with `done`), in keyset chunks; each chunk its own
        read, so a long export holds no transaction and sees each row once."""
        after: str | None = None
        while True:
            rows, cursors = self._log_page(f, now, chunk, after)
            if rows:
                yield rows
            if len(rows) < chunk:
                return
            after = cursors.last()

    def iter_log_raw(
        self, f: LogFilter, now: datetime, chunk: int = 2000
    ) -> Iterator[list[Sequence[Any]]]:
        """`iter_log` as the driver's tuples (`LOG_SELECT`'s columns first, `DONE` the
        ticket's flag): no row objects, for an export that formats them itself."""
        after: str | None = None
        plan: lp.Plan | None = None
        tickets: dict[str, Sequence[Any]] = {}
        while True:
            key, raw, plan = self._log_raw(f, now, chunk, after, plan, tickets)
            if raw:
                yield raw
            if len(raw) < chunk:
                return
            after = Cursors(key, raw, DONE + 1).last()

    # -- compliance --------------------------------------------------------------------

    def compliance_groups(
        self,
        f: LogFilter,
        start: datetime,
        end: datetime,
        group_by: Sequence[Dimension],
        tz: ZoneInfo,
        now: datetime,
    ) -> Groups:
        """The aggregates of the cycles finished for good (see `store.compliance`)."""
        return finished_groups(self.sql, self._log_where(f, now), start, end, group_by, tz, now)

    def running_breached(
        self, f: LogFilter, start: datetime, end: datetime, now: datetime
    ) -> list[tuple[LogRow, bool]]:
        """Log rows (with `done`) of running cycles breached as of `now`, started in
        [start, end): their elapsed time still grows."""
        s = self.sql
        w = running_breached_where(s, start, end, now)
        w.extend(self._log_where(f, now))
        text = (
            f'SELECT {LOG_SELECT} FROM "cycle" c JOIN "ticket" t ON t."id" = c."ticket_id"{w.sql()}'
        )
        with s.read() as cur:
            s.execute(cur, text, [s.t(now), *w.params])
            return [(log_row_of(r), bool(r[DONE])) for r in cur.fetchall()]

    def cycle_states(self, now: datetime) -> dict[str, int]:
        """Stored cycles by state as of `now` (the `slarules_cycles` metric): the stored
        states counted on their index, the active ones breached as of `now` (`BREACHED_NOW`)
        moved to `breached` (what `effective_state_sql` reads, without evaluating it for
        every cycle row)."""
        s = self.sql
        out: dict[str, int] = {}
        with s.read() as cur:
            for state in STATES:
                s.execute(cur, 'SELECT COUNT(*) FROM "cycle" c WHERE c."state" = ?', (state,))
                out[state] = int(cur.fetchone()[0])
            s.execute(
                cur,
                f'SELECT COUNT(*) FROM "cycle" c WHERE {BREACHED_NOW.format(c="c")}',
                (s.t(now),),
            )
            moved = int(cur.fetchone()[0])
        out["active"] -= moved
        out["breached"] += moved
        return {k: v for k, v in out.items() if v}


__all__ = [
    "DONE",
    "LogFilter",
    "Page",
    "Queries",
    "TicketFilter",
    "effective_state_sql",
    "log_row_of",
]
