"""Compliance as SQL aggregates: one GROUP BY over the cycles started in a range.

Finished cycles that will not change (stopped, or of a done ticket) are summed
by the database: counts, sums, minimum and maximum of met and breached
durations per group. Cycles breached as of `now` that still run (their
elapsed time grows) come back as rows for the service to bring up to `now`;
there are at most as many as running cycles. Days are local days of the
ruleset's zone: on PostgreSQL by a double `AT TIME ZONE`, on SQLite by a
join with each local day's UTC bounds (zoneinfo does the DST arithmetic).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slarules.engine.reports import DIMENSIONS, Dimension, Groups, Totals
from slarules.store.filters import BREACHED_NOW, Where
from slarules.store.sql import Sql


def _finished_now(s: Sql) -> str:
    """Met or breached as of now (one `?`). On SQLite the state terms are kept from the
    index choice (`+c`): over a year nearly every cycle is finished, so the started range
    must drive the plan, not a MULTI-INDEX OR over states."""
    c = "c" if s.pg else "+c"
    return f"({c}.\"state\" IN ('met', 'breached') OR ({BREACHED_NOW.format(c=c)}))"


MET = "c.\"state\" = 'met'"
AGGREGATES = (
    f"SUM(CASE WHEN {MET} THEN 1 ELSE 0 END), "
    f'SUM(CASE WHEN {MET} THEN c."elapsed" ELSE 0 END), '
    f'MIN(CASE WHEN {MET} THEN c."elapsed" END), MAX(CASE WHEN {MET} THEN c."elapsed" END), '
    f"SUM(CASE WHEN {MET} THEN 0 ELSE 1 END), "
    f'SUM(CASE WHEN {MET} THEN 0 ELSE c."elapsed" END), '
    f'MIN(CASE WHEN {MET} THEN NULL ELSE c."elapsed" END), '
    f'MAX(CASE WHEN {MET} THEN NULL ELSE c."elapsed" END)'
)


def local_days(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[str, str, str]]:
    """(local day, its UTC start, its UTC end) for every local day that [start, end) touches,
    as SQLite text (DST-correct: the day's bounds come from zoneinfo)."""
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    out = []
    for n in range((last - first).days + 1):
        d = first + timedelta(days=n)
        lo, hi = (
            datetime.combine(x, time(), tz).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            for x in (d, d + timedelta(days=1))
        )
        out.append((d.isoformat(), lo, hi))
    return out


def _groups(s: Sql, group_by: Sequence[Dimension], tz: ZoneInfo) -> tuple[list[str], list[str]]:
    """(SELECT key items, SELECT label items) in DIMENSIONS order for the grouped ones."""
    keys, labels = [], []
    collate = ' COLLATE "C"' if s.pg else ""
    for dim in DIMENSIONS:
        if dim not in group_by:
            continue
        if dim == "day":
            keys.append(
                f"((c.\"started_at\" AT TIME ZONE 'UTC') AT TIME ZONE '{tz.key}')::date"
                if s.pg
                else "d.day"
            )
            labels.append("")
        elif dim in ("department", "assignee"):
            keys.append(f't."{dim}_key"')
            labels.append(f'MIN(t."{dim}"{collate})')
        elif dim == "level":
            keys.append("COALESCE(t.\"level\", '')")
            labels.append("")
        else:
            keys.append('c."metric"')
            labels.append("")
    return keys, labels


def finished_groups(
    s: Sql,
    where: Where,
    start: datetime,
    end: datetime,
    group_by: Sequence[Dimension],
    tz: ZoneInfo,
    now: datetime,
) -> Groups:
    """The database's share of the report: cycles finished for good, grouped and summed."""
    keys, labels = _groups(s, group_by, tz)
    w = Where()
    w.add('c."started_at" >= ?', s.t(start))
    w.add('c."started_at" < ?', s.t(end))
    w.add(_finished_now(s), s.t(now))
    w.add('(c."stopped_at" IS NOT NULL OR t."done")')
    w.extend(where)
    days = ""
    source = '"cycle" c'
    if "day" in group_by and not s.pg:
        values = ",".join(f"('{d}', '{lo}', '{hi}')" for d, lo, hi in local_days(start, end, tz))
        days = f"WITH days(day, lo, hi) AS (VALUES {values}) "
        source = 'days d JOIN "cycle" c ON c."started_at" >= d.lo AND c."started_at" < d.hi'
    items = [*keys, *(lab for lab in labels if lab), AGGREGATES]
    n = len(keys)
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(n))}" if n else ""
    text = (
        f"{days}SELECT {', '.join(items)} FROM {source} "
        f'JOIN "ticket" t ON t."id" = c."ticket_id"{w.sql()}{group}'
    )
    out = Groups.empty()
    with s.read() as cur:
        s.execute(cur, text, w.params)
        rows = cur.fetchall()
    grouped = [d for d in DIMENSIONS if d in group_by]
    label_at = [i for i, lab in enumerate(labels) if lab]
    for r in rows:
        agg = r[len(r) - 8 :]
        if not agg[0] and not agg[4]:
            continue  # no row at all (an ungrouped aggregate over nothing)
        key: list[str | None] = [None] * len(DIMENSIONS)
        label: list[str | None] = [None] * len(DIMENSIONS)
        for j, dim in enumerate(grouped):
            v = r[j]
            v = v.isoformat() if hasattr(v, "isoformat") else v
            key[DIMENSIONS.index(dim)] = v
            label[DIMENSIONS.index(dim)] = v
        for pos, j in enumerate(label_at):
            label[DIMENSIONS.index(grouped[j])] = r[n + pos]
        out.add(tuple(key), label, Totals(*(int(x) if x is not None else None for x in agg)))  # type: ignore[arg-type]
    return out


def running_breached_where(s: Sql, start: datetime, end: datetime, now: datetime) -> Where:
    """Cycles breached as of `now` that still run, started in [start, end)."""
    w = Where()
    w.add('c."started_at" >= ?', s.t(start))
    w.add('c."started_at" < ?', s.t(end))
    c = "c" if s.pg else "+c"
    w.add(f"({c}.\"state\" = 'breached' OR ({BREACHED_NOW.format(c=c)}))", s.t(now))
    w.add('c."stopped_at" IS NULL AND NOT t."done"')
    return w
