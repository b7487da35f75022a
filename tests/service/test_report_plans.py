"""The report and list queries use the indexes of migration 0004 (issue 18).

Each operation's statements are captured as the store sends them and explained on the
same connection: `EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` with sequential scans
disabled on PostgreSQL. A change that makes one of them fall back to a scan of the
cycle or ticket table fails here, not in production at a year of tickets."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from slarules.service import LogFilter, TicketFilter, TicketService
from slarules.settings import DatabaseConfig
from slarules.store import Store
from slarules.store.alerts import AlertQuery
from slarules.store.sql import Sql
from tests.service.reports_store import START, make_policy

POLICY = make_policy()
NOW = START + timedelta(days=2)
END = START + timedelta(days=30)


@pytest.fixture
def service(database: DatabaseConfig) -> Iterator[TicketService]:
    store = Store.open(database)
    svc = TicketService(store)
    for i in range(3):
        raw = {"id": f"T{i}", "created_at": START, "fields": {"status": "new", "priority": "high"}}
        svc.record_ticket(POLICY, raw, START)
    yield svc
    store.close()


def _captured(svc: TicketService, op: Callable[[], Any]) -> list[tuple[str, list[Any]]]:
    s = svc.store.sql
    seen: list[tuple[str, list[Any]]] = []
    real = Sql.execute

    def spy(self: Sql, cur: Any, text: str, params: Any = ()) -> Any:
        if text.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((text, list(params)))
        return real(self, cur, text, params)

    s.execute = spy.__get__(s)  # type: ignore[method-assign]
    try:
        op()
    finally:
        del s.execute
    return seen


def _plans(svc: TicketService, op: Callable[[], Any]) -> list[str]:
    s = svc.store.sql
    out = []
    statements = _captured(svc, op)
    assert statements
    with s.read() as cur:
        if s.pg:
            cur.execute("SET enable_seqscan = off")  # a tiny table: ask what the indexes allow
            cur.execute("SET enable_sort = off")
        for text, params in statements:
            s.execute(cur, ("EXPLAIN " if s.pg else "EXPLAIN QUERY PLAN ") + text, params)
            out.append("\n".join(str(r[-1] if not s.pg else r[0]) for r in cur.fetchall()))
        if s.pg:
            cur.execute("RESET enable_seqscan")
            cur.execute("RESET enable_sort")
    return out


def _first_cursor(svc: TicketService, f: LogFilter) -> str:
    return svc.sla_log(POLICY, f, 1, None, NOW, False).cursors[-1]


def _ticket_cursor(svc: TicketService, f: TicketFilter) -> str:
    return svc.ticket_page(POLICY, f, 1, None, NOW, False)[0].cursors[-1]


# (operation, a pattern of the index one of its statements' plans must name)
CASES: dict[str, tuple[Callable[[TicketService], Any], str]] = {
    "log page by started": (
        lambda svc: svc.sla_log(POLICY, LogFilter(), 100, None, NOW, False),
        "ix_cycle_started_key",
    ),
    "log next page by started": (
        lambda svc: svc.sla_log(POLICY, LogFilter(), 100, _first_cursor(svc, LogFilter()), NOW),
        "ix_cycle_started_key",
    ),
    "log page, breached": (
        lambda svc: svc.sla_log(POLICY, LogFilter(state="breached"), 100, None, NOW, False),
        "ix_cycle_",
    ),
    "log page by due, descending": (
        lambda svc: svc.sla_log(
            POLICY, LogFilter(order_by="stopped_at", descending=True), 100, None, NOW, False
        ),
        "",
    ),
    "export chunks": (
        lambda svc: list(svc.iter_log(POLICY, LogFilter(), NOW)),
        "ix_cycle_started_key",
    ),
    "export chunks of a department": (
        lambda svc: list(svc.iter_log(POLICY, LogFilter(department="x"), NOW)),
        "ix_ticket_department_id|ix_cycle_started_key",
    ),
    "compliance by department": (
        lambda svc: svc.compliance(POLICY, START, END, ["department"], NOW),
        "ix_cycle_started_key",
    ),
    "compliance by day and metric": (
        lambda svc: svc.compliance(POLICY, START, END, ["day", "metric"], NOW),
        "ix_cycle_started_key",
    ),
    "tickets by due": (
        lambda svc: svc.ticket_page(POLICY, TicketFilter(), 50, None, NOW, False),
        "ix_ticket_due_key_id",
    ),
    "tickets next page by due": (
        lambda svc: svc.ticket_page(
            POLICY, TicketFilter(), 50, _ticket_cursor(svc, TicketFilter()), NOW, False
        ),
        "ix_ticket_due_key_id",
    ),
    "tickets breached": (
        lambda svc: svc.ticket_page(POLICY, TicketFilter(state="breached"), 50, None, NOW),
        "ix_cycle_state_",
    ),
    "tickets by priority": (
        lambda svc: svc.ticket_page(POLICY, TicketFilter(priority="high"), 50, None, NOW),
        "ix_ticket_priority",
    ),
    "tickets of a department, by creation": (
        lambda svc: svc.ticket_page(
            POLICY, TicketFilter(department="ops", order_by="created_at"), 50, None, NOW
        ),
        "ix_ticket_",
    ),
}
FULL_SCAN_SQLITE = re.compile(r"\bSCAN (c|t)\b(?! USING)")


@pytest.mark.parametrize("case", list(CASES))
def test_list_and_report_queries_use_indexes(service: TicketService, case: str) -> None:
    op, index = CASES[case]
    plans = _plans(service, lambda: op(service))
    for plan in plans:
        if service.store.sql.pg:
            assert "Seq Scan on cycle" not in plan and "Seq Scan on ticket" not in plan, plan
        else:
            assert not FULL_SCAN_SQLITE.search(plan), plan
    assert any(re.search(index, p) for p in plans), plans


def test_the_started_keyset_seeks_instead_of_sorting(sqlite_db: DatabaseConfig) -> None:
    store = Store.open(sqlite_db)
    svc = TicketService(store)
    plans = _plans(
        svc, lambda: svc.sla_log(POLICY, LogFilter(), 100, _first_cursor_any(svc), NOW, False)
    )
    page = [p for p in plans if "ix_cycle_started_key" in p][-1]
    assert "ix_cycle_started_key ((started_at,ticket_id,metric,idx)>(?,?,?,?))" in page, page
    assert "TEMP B-TREE" not in page, page
    store.close()


def _first_cursor_any(svc: TicketService) -> str:
    raw = {"id": "A", "created_at": START, "fields": {"status": "new"}}
    svc.record_ticket(POLICY, raw, START)
    return _first_cursor(svc, LogFilter())


# The alert outbox read in raised order: `slaAlerts(after:)` replay and the `alerts` history
# page (issue 11; migration 0006). Each must use `ix_alert_created_id`, never scan the outbox.
ALERT_CASES: dict[str, Callable[[TicketService], Any]] = {
    "replay after an instant": lambda svc: svc.store.alerts.raised_since(
        AlertQuery(), START, None, 500
    ),
    "replay after an alert id": lambda svc: svc.store.alerts.raised_since(
        AlertQuery(), None, (START, "a1"), 500
    ),
    "replay of breaches only": lambda svc: svc.store.alerts.raised_since(
        AlertQuery(kinds=("breach",)), START, None, 500
    ),
    "history first page": lambda svc: svc.store.alerts.history(AlertQuery(), 20, None),
    "history next page": lambda svc: svc.store.alerts.history(AlertQuery(), 20, (START, "a1")),
}
FULL_SCAN_ALERT = re.compile(r"\bSCAN alert\b(?! USING)")


@pytest.mark.parametrize("case", list(ALERT_CASES))
def test_alert_replay_and_history_use_the_raised_index(service: TicketService, case: str) -> None:
    plans = _plans(service, lambda: ALERT_CASES[case](service))
    for plan in plans:
        if service.store.sql.pg:
            assert "Seq Scan on alert" not in plan, plan
        else:
            assert not FULL_SCAN_ALERT.search(plan), plan
            assert "TEMP B-TREE" not in plan, plan  # the index gives the order: no sort
    assert any("ix_alert_created_id" in p for p in plans), plans


# SQLite log pages with conditions on the ticket row only (issue 18, migration 0008): the
# probe counts tickets in their own index (no join of their cycles), and a few thousand of
# them are tested by id list while walking the sort index.
LIST_CASES: dict[str, tuple[LogFilter, str]] = {
    "assignee": (LogFilter(assignee="x"), "COVERING INDEX ix_ticket_assignee_id"),
    "department": (LogFilter(department="x"), "COVERING INDEX ix_ticket_department_id"),
    "level": (LogFilter(level="urgent"), "COVERING INDEX ix_ticket_level_id"),
    "priority and source": (
        LogFilter(priority="high", source="chat"),
        "ix_ticket_priority_source",
    ),
}


@pytest.mark.parametrize("case", list(LIST_CASES))
def test_a_log_page_of_ticket_conditions_walks_with_their_id_list(
    sqlite_db: DatabaseConfig, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("slarules.store.logplans.LOG_DENSE", -10)  # never few: walk
    store = Store.open(sqlite_db)
    svc = TicketService(store)
    f, index = LIST_CASES[case]
    op = lambda: svc.sla_log(POLICY, f, 100, None, NOW, False)  # noqa: E731
    texts = [t for t, _ in _captured(svc, op)]
    probes = [t for t in texts if t.startswith("SELECT COUNT(*)")]
    assert probes and all('FROM "cycle"' not in t for t in probes), probes
    plans = _plans(svc, op)
    page = [p for p in plans if "ix_cycle_started_key" in p]
    assert page and "LIST SUBQUERY" in page[0] and index in page[0], plans
    assert "CORRELATED" not in page[0] and "TEMP B-TREE" not in page[0], page
    store.close()


def test_a_log_probe_of_cycle_conditions_reads_no_ticket(sqlite_db: DatabaseConfig) -> None:
    store = Store.open(sqlite_db)
    svc = TicketService(store)
    op = lambda: svc.sla_log(POLICY, LogFilter(state="breached"), 100, None, NOW, False)  # noqa: E731
    probes = [t for t, _ in _captured(svc, op) if t.startswith("SELECT COUNT(*)")]
    assert probes and all('"ticket"' not in t for t in probes), probes
    store.close()


@pytest.mark.parametrize(
    "f",
    [LogFilter(state="active"), LogFilter(), LogFilter(metric="resolution", descending=True)],
    ids=["active", "no filter", "metric, descending"],
)
def test_a_postgres_log_page_limits_its_cycles_before_the_join(
    service: TicketService, f: LogFilter
) -> None:
    """PostgreSQL, no ticket condition nor ticket sort: the page's cycles are limited first,
    then joined to their tickets (it joined every matching cycle before the limit)."""
    if not service.store.sql.pg:
        pytest.skip("a PostgreSQL plan")
    (plan,) = _plans(service, lambda: service.store.queries.sla_log(f, 100, None, NOW, False))
    lines = plan.splitlines()
    join = next(i for i, line in enumerate(lines) if "Nested Loop" in line or "Join" in line)
    assert any("Limit" in line for line in lines[join:]), plan


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("state", ["active", "paused"])
def test_a_log_page_of_an_open_state_walks_the_running_cycles(
    service: TicketService, state: str, descending: bool
) -> None:
    """A log page of ACTIVE or PAUSED cycles by start walks the partial index of the
    running cycles in order, on both databases (it sorted every open cycle of the store;
    SQLite also counted them first to choose a plan), a later page too."""
    f = LogFilter(state=state, descending=descending)
    after = service.sla_log(POLICY, f, 1, None, NOW, False).cursors
    for cursor in (None, *after):
        plans = _plans(
            service, lambda c=cursor: service.store.queries.sla_log(f, 100, c, NOW, False)
        )
        for plan in plans:
            assert "ix_cycle_running_started" in plan, plan
            assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_postgres_log_page_of_an_assignee_hashes_the_ticket_ids(
    service: TicketService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL, `HASHED`: the matching ticket ids are read once from the assignee index
    into a hashed set, and the walk of the start index tests each cycle against it (the
    planner probed each cycle's ticket in a memoized nested loop)."""
    if not service.store.sql.pg:
        pytest.skip("a PostgreSQL plan")
    from tests.service.test_reports import _hashed_when_eligible

    monkeypatch.setattr("slarules.store.logplans.pg_log_plan", _hashed_when_eligible)
    f = LogFilter(assignee="ana")
    (plan,) = _plans(service, lambda: service.store.queries.sla_log(f, 100, None, NOW, False))
    assert "hashed SubPlan" in plan and "ix_ticket_assignee_id" in plan, plan
    assert "Memoize" not in plan, plan


class _Estimate:
    def __init__(self, n: float) -> None:
        self.n = n

    def of(self, sql: Sql) -> float:
        return self.n


def test_the_postgres_log_plan_asks_the_planners_estimate(service: TicketService) -> None:
    """`pg_log_plan` reads the planner's estimate of the matching tickets (`EXPLAIN`, its
    JSON text) and hashes only between its bounds; other conditions walk."""
    from slarules.store.filters import Where
    from slarules.store.logplans import HASHED, WALK, pg_log_plan

    s = service.store.sql
    if not s.pg:
        pytest.skip("a PostgreSQL plan")
    w = Where(['t."assignee_key" = ?'], ["ana"])  # estimated at 1 row or so of 3 tickets
    assert pg_log_plan(s, w, _Estimate(1.0)) == WALK  # 1 < 2.6√1: few, the planner's plan
    assert pg_log_plan(s, w, _Estimate(0.01)) == HASHED  # 2.6√0.01 < 1 < 20√0.01
    assert pg_log_plan(s, w, _Estimate(0.0001)) == WALK  # 1 > 20√0.0001: too many
    assert pg_log_plan(s, Where(['t."requester_key" = ?'], ["x"]), _Estimate(0.01)) == WALK
    assert pg_log_plan(s, Where(), _Estimate(0.01)) == WALK
    from slarules.store.logplans import TicketEstimate

    assert TicketEstimate().of(s) >= 0  # reltuples: -1 before the first ANALYZE, read as 0
