"""SLA log rows and compliance aggregation: pure functions over measured cycles.

The SLA log has one row per cycle with the ticket's current fields; the
compliance report aggregates the *finished* cycles (met, or breached whether
stopped or not) that started in `[start, end)`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal
from zoneinfo import ZoneInfo

from slarules.engine.measurement import Cycle, Measurement
from slarules.engine.policy import fold

Dimension = Literal["day", "department", "assignee", "level", "metric"]
DIMENSIONS: tuple[Dimension, ...] = ("day", "department", "assignee", "level", "metric")
# text dimensions grouped as the rules compare text: case-folded
FOLDED = frozenset({"department", "assignee"})


@dataclass(frozen=True, slots=True)
class LogRow:
    """One SLA-log row (semantics.md §SLA log); durations in seconds."""

    ticket_id: str
    requester: str | None
    department: str | None
    assignee: str | None
    level: str
    metric: str
    index: int
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    state: str
    target: int
    elapsed: int
    remaining: int
    ruleset_version: str


LOG_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(LogRow))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def log_row(ticket_id: str, level: str, cycle: Cycle, ticket_fields: Any) -> LogRow:
    return LogRow(
        ticket_id=ticket_id,
        requester=_text(ticket_fields.get("requester")),
        department=_text(ticket_fields.get("department")),
        assignee=_text(ticket_fields.get("assignee")),
        level=level,
        metric=cycle.metric,
        index=cycle.index,
        started_at=cycle.started_at,
        due_at=cycle.due_at,
        stopped_at=cycle.stopped_at,
        state=cycle.state,
        target=cycle.target,
        elapsed=cycle.elapsed,
        remaining=cycle.remaining,
        ruleset_version=cycle.ruleset_version,
    )


def log_rows(m: Measurement) -> list[LogRow]:
    """The SLA-log rows of one measured ticket (none when it has no level)."""
    if m.level is None:
        return []
    return [log_row(m.ticket_id, m.level, c, m.fields) for c in m.cycles]


def is_finished(state: str) -> bool:
    return state in ("met", "breached")


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    """One group of the compliance report; a dimension not grouped on is None."""

    day: str | None
    department: str | None
    assignee: str | None
    level: str | None
    metric: str | None
    met_count: int
    met_avg_seconds: float | None
    met_min_seconds: int | None
    met_max_seconds: int | None
    breached_count: int
    breached_avg_seconds: float | None
    breached_min_seconds: int | None
    breached_max_seconds: int | None
    service_level: float | None  # met / (met + breached) × 100


COMPLIANCE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ComplianceRow))


class _Acc:
    __slots__ = ("b_max", "b_min", "b_n", "b_sum", "m_max", "m_min", "m_n", "m_sum")

    def __init__(self) -> None:
        self.m_n = self.m_sum = self.b_n = self.b_sum = 0
        self.m_min: int | None = None
        self.m_max: int | None = None
        self.b_min: int | None = None
        self.b_max: int | None = None

    def add(self, state: str, elapsed: int) -> None:
        if state == "met":
            self.m_n += 1
            self.m_sum += elapsed
            self.m_min = elapsed if self.m_min is None else min(self.m_min, elapsed)
            self.m_max = elapsed if self.m_max is None else max(self.m_max, elapsed)
        else:
            self.b_n += 1
            self.b_sum += elapsed
            self.b_min = elapsed if self.b_min is None else min(self.b_min, elapsed)
            self.b_max = elapsed if self.b_max is None else max(self.b_max, elapsed)


def compliance_row(
    label: Sequence[str | None],
    met_n: int,
    met_sum: int,
    met_min: int | None,
    met_max: int | None,
    b_n: int,
    b_sum: int,
    b_min: int | None,
    b_max: int | None,
) -> ComplianceRow:
    """One compliance row from a group's label (DIMENSIONS order) and its totals."""
    total = met_n + b_n
    return ComplianceRow(
        day=label[0],
        department=label[1],
        assignee=label[2],
        level=label[3],
        metric=label[4],
        met_count=met_n,
        met_avg_seconds=met_sum / met_n if met_n else None,
        met_min_seconds=met_min,
        met_max_seconds=met_max,
        breached_count=b_n,
        breached_avg_seconds=b_sum / b_n if b_n else None,
        breached_min_seconds=b_min,
        breached_max_seconds=b_max,
        service_level=(met_n / total * 100.0) if total else None,
    )


def group_key(row: LogRow, group_by: Sequence[Dimension], tz: ZoneInfo) -> tuple[str | None, ...]:
    """The values of the grouped dimensions, in DIMENSIONS order (None where not grouped)."""
    out: list[str | None] = []
    for dim in DIMENSIONS:
        if dim not in group_by:
            out.append(None)
        elif dim == "day":
            out.append(row.started_at.astimezone(tz).date().isoformat())
        elif dim in FOLDED:
            value = getattr(row, dim)
            out.append(None if value is None else fold(value))
        else:
            out.append(getattr(row, dim))
    return tuple(out)


def compliance(
    rows: Iterable[LogRow],
    start: datetime,
    end: datetime,
    group_by: Sequence[Dimension] = (),
    tz: ZoneInfo | None = None,
) -> list[ComplianceRow]:
    """Aggregate finished cycles started in `[start, end)`, grouped; rows sorted by group key.

    With no grouping there is exactly one row (also when it counts nothing).
    `tz` is the ruleset's `timezone`, used for the `day` dimension.
    """
    for dim in group_by:
        if dim not in DIMENSIONS:
            raise ValueError(f"unknown compliance dimension `{dim}`")
    zone = tz or ZoneInfo("UTC")
    groups: dict[tuple[str | None, ...], _Acc] = {}
    shown: dict[tuple[str | None, ...], list[str | None]] = {}  # one spelling per group
    folded = [i for i, dim in enumerate(DIMENSIONS) if dim in FOLDED and dim in group_by]
    for row in rows:
        if not is_finished(row.state) or not (start <= row.started_at < end):
            continue
        key = group_key(row, group_by, zone)
        acc = groups.get(key)
        if acc is None:
            acc = groups[key] = _Acc()
            shown[key] = [None if i in folded else v for i, v in enumerate(key)]
        label = shown[key]
        for i in folded:  # the smallest spelling of the group: stable whatever the row order
            spelling = getattr(row, DIMENSIONS[i])
            if label[i] is None or spelling < label[i]:
                label[i] = spelling
        acc.add(row.state, row.elapsed)
    if not group_by and not groups:
        groups[(None,) * len(DIMENSIONS)] = _Acc()
    out = []
    for key in sorted(groups, key=lambda k: tuple("" if v is None else v for v in k)):
        a = groups[key]
        label = shown.get(key, list(key))
        out.append(
            compliance_row(
                label, a.m_n, a.m_sum, a.m_min, a.m_max, a.b_n, a.b_sum, a.b_min, a.b_max
            )
        )
    return out


def _cell(value: object) -> str:
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.isoformat()
        if text.endswith("+00:00"):  # the usual: already UTC
            return text[:-6] + "Z"
        return value.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def csv_lines(header: Sequence[str], rows: Iterable[Any]) -> Iterator[str]:
    """CSV text, one line per yielded string (header first): streamable. The rows'
    attributes named by `header` are the cells."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    yield buf.getvalue()
    cells = attrgetter(*header)
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow([_cell(v) for v in cells(row)])
        yield buf.getvalue()


def csv_chunk(header: Sequence[str], rows: Iterable[Any]) -> str:
    """The CSV lines of `rows` (no header) as one string: a piece of a streamed body."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    cells = attrgetter(*header)
    writer.writerows([_cell(v) for v in cells(row)] for row in rows)
    return buf.getvalue()


def log_csv(rows: Iterable[LogRow]) -> Iterator[str]:
    return csv_lines(LOG_COLUMNS, rows)


def compliance_csv(rows: Iterable[ComplianceRow]) -> Iterator[str]:
    return csv_lines(COMPLIANCE_COLUMNS, rows)


# -- compliance from partial aggregates (the database's GROUP BY, plus re-measured rows) --

GroupKey = tuple[str | None, ...]


@dataclass(slots=True)
class Totals:
    """Counts, sums and extremes of met and breached durations of one group."""

    met_n: int = 0
    met_sum: int = 0
    met_min: int | None = None
    met_max: int | None = None
    b_n: int = 0
    b_sum: int = 0
    b_min: int | None = None
    b_max: int | None = None

    def add(self, state: str, elapsed: int) -> None:
        self.merge(
            Totals(1, elapsed, elapsed, elapsed)
            if state == "met"
            else Totals(0, 0, None, None, 1, elapsed, elapsed, elapsed)
        )

    def merge(self, o: Totals) -> None:
        self.met_n += o.met_n
        self.met_sum += o.met_sum
        self.met_min = _opt(min, self.met_min, o.met_min)
        self.met_max = _opt(max, self.met_max, o.met_max)
        self.b_n += o.b_n
        self.b_sum += o.b_sum
        self.b_min = _opt(min, self.b_min, o.b_min)
        self.b_max = _opt(max, self.b_max, o.b_max)


def _opt(pick: Any, a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else pick(a, b)


@dataclass(slots=True)
class Groups:
    """Compliance groups being summed: key (folded, DIMENSIONS order) → totals, label."""

    totals: dict[GroupKey, Totals]
    labels: dict[GroupKey, list[str | None]]

    @classmethod
    def empty(cls) -> Groups:
        return cls({}, {})

    def add(self, key: GroupKey, label: Sequence[str | None], totals: Totals) -> None:
        """Merge one partial group; folded dimensions keep their smallest spelling."""
        if key not in self.totals:
            self.totals[key] = Totals()
            self.labels[key] = list(label)
        self.totals[key].merge(totals)
        shown = self.labels[key]
        for i, dim in enumerate(DIMENSIONS):
            new = label[i]
            if dim in FOLDED and new is not None and (shown[i] is None or new < shown[i]):  # type: ignore[operator]
                shown[i] = new

    def add_rows(
        self,
        rows: Iterable[LogRow],
        start: datetime,
        end: datetime,
        group_by: Sequence[Dimension],
        tz: ZoneInfo,
    ) -> None:
        """Fold in log rows the way `compliance` counts them (finished, started in range)."""
        for row in rows:
            if not is_finished(row.state) or not (start <= row.started_at < end):
                continue
            key = group_key(row, group_by, tz)
            label = [
                getattr(row, dim) if dim in FOLDED and dim in group_by else key[i]
                for i, dim in enumerate(DIMENSIONS)
            ]
            t = Totals()
            t.add(row.state, row.elapsed)
            self.add(key, label, t)

    def rows(self, group_by: Sequence[Dimension]) -> list[ComplianceRow]:
        """The report, as `compliance` gives it (sorted by group key; one row ungrouped)."""
        totals = dict(self.totals)
        if not group_by and not totals:
            totals[(None,) * len(DIMENSIONS)] = Totals()
        out = []
        for key in sorted(totals, key=lambda k: tuple("" if v is None else v for v in k)):
            a = totals[key]
            label = self.labels.get(key, list(key))
            out.append(
                compliance_row(
                    label,
                    a.met_n,
                    a.met_sum,
                    a.met_min,
                    a.met_max,
                    a.b_n,
                    a.b_sum,
                    a.b_min,
                    a.b_max,
                )
            )
        return out
