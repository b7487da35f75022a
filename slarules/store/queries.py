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

from slarules.engine.reports import LOG_COLUMNS, LogRow
from slarules.errors import BAD_USER_INPUT, ServiceError
from slarules.store.filters import (
    BREACHED_NOW,
    DENSE_MATCHES,
    ORDER,
    LogFilter,
    Page,
    TicketFilter,
    Where,
    check_metric,
    cursor_of,
    effective_state_sql,
    parse_cursor,
    snake,
    state_sql,
    text_filters,
)
from slarules.store.sql import Sql
from slarules.store.times import from_db, opt_from_db


class Queries:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    # -- tickets ---------------------------------------------------------------------

    def _ticket_where(self, f: TicketFilter, now: datetime) -> tuple[Where, Where]:
        """Conditions on the ticket row, and on one of its cycles."""
        s = self.sql
        w = Where()
        text_filters(f, w)
        if f.created_from is not None:
            w.add('t."created_at" >= ?', s.t(f.created_from))
        if f.created_to is not None:
            w.add('t."created_at" < ?', s.t(f.created_to))
        check_metric(f.metric)
        cw = Where()
        if f.metric is not None:
            cw.add('c."metric" = ?', f.metric)
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

    def tickets(self, f: TicketFilter, first: int, after: str | None, now: datetime) -> Page:
        """Ticket ids sorted by the earliest due of a running cycle (keyset pagination).

        The count comes first and picks the page plan: few matches → collect them through
        the cycle indexes and sort; many → walk `ix_ticket_due_key_id` in order and probe
        each ticket's cycles, stopping after one page.
        """
        if not 0 <= first <= 500:
            raise ServiceError(BAD_USER_INPUT, "`first` must be between 0 and 500", key="first")
        s = self.sql
        tw, cw = self._ticket_where(f, now)
        conds = " AND ".join(cw.parts)
        w = Where(list(tw.parts), list(tw.params))
        if cw.parts and not tw.parts:
            count_sql = f'SELECT COUNT(DISTINCT c."ticket_id") FROM "cycle" c WHERE {conds}'
            count_params = list(cw.params)
        else:
            if cw.parts:
                w.add(f't."id" IN (SELECT c."ticket_id" FROM "cycle" c WHERE {conds})', *cw.params)
            count_sql = 'SELECT COUNT(*) FROM "ticket" t' + w.sql()
            count_params = list(w.params)
        with s.read() as cur:
            s.execute(cur, count_sql, count_params)
            total = int(cur.fetchone()[0])
        if cw.parts:
            w = Where(list(tw.parts), list(tw.params))
            if total <= DENSE_MATCHES:
                w.add(f't."id" IN (SELECT c."ticket_id" FROM "cycle" c WHERE {conds})', *cw.params)
            else:
                w.add(
                    f'EXISTS (SELECT 1 FROM "cycle" c WHERE c."ticket_id" = t."id" AND {conds})',
                    *cw.params,
                )
        if after:
            key = parse_cursor(after)
            if not (
                isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key)
            ):
                raise ServiceError(
                    BAD_USER_INPUT, "`after` is not a cursor of this list", key="after"
                )
            try:
                due = datetime.fromisoformat(key[0])
            except ValueError:
                raise ServiceError(
                    BAD_USER_INPUT, "`after` is not a cursor of this list", key="after"
                ) from None
            w.add(
                '(t."due_key" > ? OR (t."due_key" = ? AND t."id" > ?))',
                s.tn(due),
                s.tn(due),
                key[1],
            )
        page_sql = (
            f'SELECT t."id", t."due_key" FROM "ticket" t{w.sql()} '
            'ORDER BY t."due_key", t."id" LIMIT ?'
        )
        with s.read() as cur:
            s.execute(cur, page_sql, [*w.params, first + 1])
            rows = cur.fetchall()
        has_next = len(rows) > first
        rows = rows[:first]
        cursors = tuple(
            cursor_of([from_db(r[1]).replace(tzinfo=None).isoformat(), r[0]]) for r in rows
        )
        return Page(tuple(r[0] for r in rows), cursors, has_next, total)

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
        text_filters(f, w)
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

    def _log_select(self, now: datetime) -> tuple[str, list[Any]]:
        return (
            'SELECT c."ticket_id", t."requester", t."department", t."assignee", t."level", '
            'c."metric", c."idx", c."started_at", c."due_at", c."stopped_at", '
            f'{effective_state_sql()} AS eff_state, c."target", c."elapsed", c."remaining", '
            'c."ruleset_version", t."done" '
            'FROM "cycle" c JOIN "ticket" t ON t."id" = c."ticket_id"',
            [self.sql.t(now)],
        )

    @staticmethod
    def _row(r: Sequence[Any]) -> LogRow:
        return LogRow(
            ticket_id=r[0],
            requester=r[1],
            department=r[2],
            assignee=r[3],
            level=r[4] or "",
            metric=r[5],
            index=r[6],
            started_at=from_db(r[7]),
            due_at=opt_from_db(r[8]),
            stopped_at=opt_from_db(r[9]),
            state=r[10],
            target=r[11],
            elapsed=r[12],
            remaining=r[13],
            ruleset_version=r[14],
        )

    def sla_log(
        self, f: LogFilter, first: int, after: str | None, now: datetime
    ) -> tuple[list[tuple[LogRow, bool]], tuple[str, ...], bool, int]:
        """One page of SLA-log rows as stored, with each row's ticket `done` flag (offset
        cursors): (rows, cursors, has next page, total)."""
        if not 0 <= first <= 1000:
            raise ServiceError(BAD_USER_INPUT, "`first` must be between 0 and 1000", key="first")
        offset = 0
        if after:
            key = parse_cursor(after)
            if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key < 2**53:
                raise ServiceError(
                    BAD_USER_INPUT, "`after` is not a cursor of this list", key="after"
                )
            offset = key + 1
        rows, total = self._log_rows(f, now, first + 1, offset, count=True)
        has_next = len(rows) > first
        rows = rows[:first]
        return rows, tuple(cursor_of(offset + i) for i in range(len(rows))), has_next, total

    def _log_rows(
        self, f: LogFilter, now: datetime, limit: int, offset: int, count: bool = False
    ) -> tuple[list[tuple[LogRow, bool]], int]:
        s = self.sql
        col = snake(f.order_by or "started_at")
        expr = ORDER.get(col)
        if expr is None:
            raise ServiceError(
                BAD_USER_INPUT,
                f"orderBy `{f.order_by}` is not a column of the SLA log ({', '.join(LOG_COLUMNS)})",
                key="filter.orderBy",
            )
        direction = "DESC" if f.descending else "ASC"
        w = self._log_where(f, now)
        select, params = self._log_select(now)
        order = (
            f"ORDER BY ({expr} IS NULL), {expr} {direction}, "
            f'c."ticket_id" {direction}, c."metric", c."idx"'
        )
        with s.read() as cur:
            s.execute(
                cur,
                f"{select}{w.sql()} {order} LIMIT ? OFFSET ?",
                [*params, *w.params, limit, offset],
            )
            rows = [(self._row(r), bool(r[15])) for r in cur.fetchall()]
            total = -1
            if count:
                s.execute(
                    cur,
                    'SELECT COUNT(*) FROM "cycle" c JOIN "ticket" t ON '
                    f't."id" = c."ticket_id"{w.sql()}',
                    w.params,
                )
                total = int(cur.fetchone()[0])
        return rows, total

    def iter_log(
        self, f: LogFilter, now: datetime, chunk: int = 500
    ) -> Iterator[list[tuple[LogRow, bool]]]:
        """Every SLA-log row as stored (with `done`), in chunks; each chunk its own read."""
        offset = 0
        while True:
            rows, _ = self._log_rows(f, now, chunk, offset)
            if not rows:
                return
            yield rows
            if len(rows) < chunk:
                return
            offset += chunk

    # -- compliance --------------------------------------------------------------------

    def finished_rows(
        self, start: datetime, end: datetime, now: datetime
    ) -> list[tuple[LogRow, bool]]:
        """Log rows (with `done`) of cycles finished as of `now` (met or breached) started in
        [start, end)."""
        s = self.sql
        w = Where()
        w.add('c."started_at" >= ?', s.t(start))
        w.add('c."started_at" < ?', s.t(end))
        w.add(f"(c.\"state\" IN ('met', 'breached') OR ({BREACHED_NOW.format(c='c')}))", s.t(now))
        select, params = self._log_select(now)
        with s.read() as cur:
            s.execute(cur, f"{select}{w.sql()}", [*params, *w.params])
            return [(self._row(r), bool(r[15])) for r in cur.fetchall()]

    def cycle_states(self, now: datetime) -> dict[str, int]:
        """Stored cycles by state as of `now` (the `slarules_cycles` metric)."""
        s = self.sql
        with s.read() as cur:
            s.execute(
                cur,
                f'SELECT {effective_state_sql()}, COUNT(*) FROM "cycle" c GROUP BY 1',
                (s.t(now),),
            )
            return {r[0]: int(r[1]) for r in cur.fetchall()}


__all__ = ["LogFilter", "Page", "Queries", "TicketFilter", "effective_state_sql"]
