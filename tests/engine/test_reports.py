"""SLA log rows, compliance aggregation and CSV rendering (semantics.md §SLA log and compliance)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slarules.dsl import build_source
from slarules.engine.reports import (
    COMPLIANCE_COLUMNS,
    LOG_COLUMNS,
    LogRow,
    compliance,
    compliance_csv,
    log_csv,
    log_rows,
)
from slarules.engine.ticket import Event, TicketHistory
from slarules.engine.timers import measure

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SP = ZoneInfo("America/Sao_Paulo")


def row(
    state: str,
    elapsed: int,
    started: datetime = T0,
    department: str | None = "support",
    metric: str = "resolution",
) -> LogRow:
    return LogRow(
        "T",
        None,
        department,
        None,
        "l",
        metric,
        1,
        started,
        None,
        None,
        state,
        3600,
        elapsed,
        3600 - elapsed,
        "v1",
    )


def test_log_rows_carry_the_tickets_current_fields() -> None:
    p = build_source("level l {\n resolution 1h\n first_response 30m\n}\ndefault level l\n").policy
    assert p is not None
    h = TicketHistory(
        "T-9",
        T0,
        {"status": "new", "department": "billing", "requester": "a@b.c"},
        (Event(T0 + timedelta(minutes=5), "update", set={"assignee": "ana"}),),
    )
    rows = log_rows(measure(p, h, T0 + timedelta(minutes=10)))
    assert [
        (r.metric, r.department, r.assignee, r.requester, r.state, r.elapsed) for r in rows
    ] == [
        ("first_response", "billing", "ana", "a@b.c", "active", 600),
        ("resolution", "billing", "ana", "a@b.c", "active", 600),
    ]


def test_compliance_counts_finished_cycles_started_in_the_range() -> None:
    rows = [
        row("met", 600),
        row("met", 1200),
        row("breached", 4000),
        row("active", 100),
        row("paused", 100),
        row("met", 60, started=T0 + timedelta(days=1)),
    ]
    (only,) = compliance(rows, T0, T0 + timedelta(days=1))
    assert (only.met_count, only.met_avg_seconds, only.met_min_seconds, only.met_max_seconds) == (
        2,
        900.0,
        600,
        1200,
    )
    assert (only.breached_count, only.breached_avg_seconds) == (1, 4000.0)
    assert only.service_level == pytest.approx(200 / 3)


def test_service_level_is_null_without_finished_cycles_and_one_row_without_grouping() -> None:
    (only,) = compliance([row("active", 5)], T0, T0 + timedelta(hours=1))
    assert (only.met_count, only.breached_count, only.service_level) == (0, 0, None)


def test_grouping_by_day_uses_the_ruleset_timezone_and_other_dimensions() -> None:
    late = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # still 2 March in São Paulo (-03:00)
    rows = [row("met", 10, started=late), row("breached", 5000, department="sales")]
    got = compliance(rows, T0, T0 + timedelta(days=2), ["day", "department"], SP)
    assert [(r.day, r.department, r.met_count, r.breached_count) for r in got] == [
        ("2026-03-02", "sales", 0, 1),
        ("2026-03-02", "support", 1, 0),
    ]
    with pytest.raises(ValueError):
        compliance(rows, T0, T0, ["week"])  # type: ignore[list-item]


def test_csv_has_snake_case_headers_and_utc_instants() -> None:
    lines = list(log_csv([row("met", 600)]))
    assert lines[0].strip() == ",".join(LOG_COLUMNS)
    assert "2026-03-02T12:00:00Z" in lines[1] and ",met,3600,600,3000,v1" in lines[1]
    comp = list(compliance_csv(compliance([row("met", 600)], T0, T0 + timedelta(hours=1))))
    assert comp[0].strip() == ",".join(COMPLIANCE_COLUMNS)
    assert comp[1].strip() == ",,,,,1,600,600,600,0,,,,100"
