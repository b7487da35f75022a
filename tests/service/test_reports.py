"""Reports in the database give exactly the engine's rows and aggregates (issue 18).

The oracle measures every ticket with the engine at `now` and runs the reference
`engine.reports.compliance`; the store answers with SQL aggregates and keyset pages.
Randomized stores include a DST change in the ruleset's zone, case-folded groups and
cycles at their exact breach instant."""

from __future__ import annotations

import base64
import itertools
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import astuple, replace
from datetime import timedelta
from typing import Any

import pytest

from slarules.engine.reports import DIMENSIONS, LogRow, compliance
from slarules.errors import ServiceError
from slarules.service import LogFilter, RawEvent, TicketFilter, TicketService
from slarules.settings import DatabaseConfig, parse_database_url
from slarules.store import Store
from tests.service.conftest import PG, _pg_admin
from tests.service.reports_store import (
    START,
    Seeded,
    matches,
    oracle_rows,
    random_log_filter,
    seed,
    ticket_matches,
)

END = START + timedelta(days=6)


@pytest.fixture
def service(database: DatabaseConfig) -> Iterator[TicketService]:
    s = Store.open(database)
    yield TicketService(s)
    s.close()


@pytest.fixture(
    scope="module", params=[("sqlite", 1), ("sqlite", 2), ("postgres", 1), ("postgres", 2)]
)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_available: bool
) -> Iterator[Seeded]:
    """One randomized store per database and seed, shared by the read-only tests."""
    kind, number = request.param
    name = f"slarules_r_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        config = parse_database_url(f"sqlite:///{tmp_path_factory.mktemp('r') / 'r.db'}")
    else:
        if not pg_available:
            pytest.skip("PostgreSQL unreachable on 127.0.0.1:5432")
        admin = _pg_admin()
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        config = DatabaseConfig(
            "postgres", host=PG["host"], port=PG["port"], user=PG["user"], database=name
        )
    store = Store.open(config)
    yield seed(TicketService(store), number)
    store.close()
    if kind == "postgres":
        admin = _pg_admin()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _report(s: Seeded, group_by: Any, f: LogFilter | None = None, start=START, end=END) -> Any:
    return s.service.compliance(s.policy, start, end, list(group_by), s.now, f)


def _reference(s: Seeded, group_by: Any, f: LogFilter, start=START, end=END) -> Any:
    rows = [r for r, fields in oracle_rows(s) if matches(r, fields, f)]
    return compliance(rows, start, end, list(group_by), s.policy.timezone)


def test_the_store_has_what_the_test_needs(seeded: Seeded) -> None:
    rows = [r for r, _ in oracle_rows(seeded)]
    at_instant = [r for r in rows if r.ticket_id in ("X-1", "X-2") and r.metric == "resolution"]
    assert [r.state for r in at_instant] == ["active", "active"]  # E == T is not breached
    assert {r.state for r in rows} >= {"met", "breached", "active"}
    days = {r.started_at.astimezone(seeded.policy.timezone).date().isoformat() for r in rows}
    assert "2026-03-08" in days and "2026-03-09" in days  # the 23-hour day and after
    assert len({r.department for r in rows if r.department}) > len(
        {r.department.casefold() for r in rows if r.department}
    )


def test_compliance_equals_the_reference_for_every_grouping(seeded: Seeded) -> None:
    for n in range(len(DIMENSIONS) + 1):
        for dims in itertools.combinations(DIMENSIONS, n):
            assert _report(seeded, dims) == _reference(seeded, dims, LogFilter()), dims


def test_compliance_with_filters_and_ranges_equals_the_reference(seeded: Seeded) -> None:
    rng = random.Random(7)
    for _ in range(25):
        f = random_log_filter(rng)
        dims = rng.sample(DIMENSIONS, rng.randrange(0, 3))
        lo = START + timedelta(hours=rng.randrange(0, 72))
        hi = lo + timedelta(hours=rng.randrange(1, 96))
        assert _report(seeded, dims, f, lo, hi) == _reference(seeded, dims, f, lo, hi), (f, dims)


def test_compliance_rejects_an_unknown_dimension(seeded: Seeded) -> None:
    with pytest.raises(ServiceError, match="unknown compliance dimension `week`"):
        _report(seeded, ["week"])


def _walk(s: Seeded, f: LogFilter, first: int) -> list[LogRow]:
    out: list[LogRow] = []
    after = None
    while True:
        page = s.service.sla_log(s.policy, f, first, after, s.now, count=False)
        out.extend(page.rows)
        if not page.has_next:
            return out
        after = page.cursors[-1]


# columns a re-measure at `now` cannot move (elapsed/remaining/due of open tickets can)
STABLE = [
    "started_at",
    "ticket_id",
    "department",
    "assignee",
    "level",
    "requester",
    "metric",
    "index",
    "stopped_at",
    "target",
    "state",
    "ruleset_version",
]


def _sorted(rows: list[LogRow], col: str, desc: bool) -> list[LogRow]:
    def key(r: LogRow) -> tuple[Any, ...]:
        return (getattr(r, col), r.ticket_id, r.metric, r.index)

    present = sorted((r for r in rows if getattr(r, col) is not None), key=key, reverse=desc)
    missing = sorted((r for r in rows if getattr(r, col) is None), key=key, reverse=desc)
    return present + missing


@pytest.mark.parametrize("desc", [False, True])
def test_sla_log_keyset_pages_equal_the_engine_rows_in_every_order(
    seeded: Seeded, desc: bool
) -> None:
    everything = [r for r, _ in oracle_rows(seeded)]
    for col in STABLE:
        got = _walk(seeded, LogFilter(order_by=col, descending=desc), 7)
        assert got == _sorted(everything, col, desc), col
    for col in ("elapsed", "remaining", "due_at"):  # the same rows, each once
        got = _walk(seeded, LogFilter(order_by=col, descending=desc), 9)
        assert sorted(map(astuple, got)) == sorted(map(astuple, everything)), col


@pytest.mark.parametrize(("dense", "listed"), [(0, -1), (0, 10**6), (20_000, -1)])
def test_sla_log_filters_equal_the_engine_rows(
    seeded: Seeded, dense: int, listed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The three page plans agree: walk the sort index (ticket conditions by id, or by
    the list of the ticket ids that meet them); collect by the filter's index."""
    monkeypatch.setattr("slarules.store.logplans.LOG_DENSE", dense)
    monkeypatch.setattr("slarules.store.logplans.LIST_TICKETS", listed)
    rng = random.Random(3)
    rows = oracle_rows(seeded)
    for _ in range(20):
        f = random_log_filter(rng)
        want = _sorted([r for r, fields in rows if matches(r, fields, f)], "started_at", False)
        page = seeded.service.sla_log(seeded.policy, f, 1000, None, seeded.now)
        assert list(page.rows) == want, f
        assert page.total == len(want)
        for col in ("started_at", "due_at"):
            g = replace(f, order_by=col, descending=col == "due_at")
            everything = [r for r, fields in rows if matches(r, fields, f)]
            walked = _walk(seeded, g, 3)
            assert sorted(map(astuple, walked)) == sorted(map(astuple, everything)), g
            if col == "started_at":
                assert walked == want
    assert (
        seeded.service.sla_log(seeded.policy, LogFilter(), 5, None, seeded.now, False).total == -1
    )


def test_tickets_filters_and_pages_equal_the_engine(seeded: Seeded) -> None:
    s = seeded
    views = s.service.views(s.policy, s.ids, s.now)
    rng = random.Random(5)
    filters = [
        TicketFilter(level="none"),
        TicketFilter(has_sla=False),
        TicketFilter(has_sla=True, state="breached"),
        TicketFilter(state="active", metric="resolution"),
    ]
    for _ in range(15):
        lf = random_log_filter(rng)
        filters.append(
            TicketFilter(
                level=lf.level,
                department=lf.department,
                assignee=lf.assignee,
                metric=lf.metric,
                state=lf.state,
                priority=lf.priority,
                source=lf.source,
                has_sla=rng.choice([None, True, False]),
            )
        )
    for f in filters:
        want = sorted(t for t, v in views.items() if ticket_matches(v, f, s.now))
        whole = s.service.ticket_page(s.policy, f, 500, None, s.now)[0]
        assert sorted(whole.ids) == want, f
        assert whole.total == len(want)
        ids, after = [], None
        while True:
            page = s.service.ticket_page(s.policy, f, 4, after, s.now, count=False)[0]
            ids.extend(page.ids)
            if not page.has_next:
                break
            after = page.cursors[-1]
        assert ids == list(whole.ids), f  # keyset pages walk the same order
    spam = s.service.ticket_page(s.policy, TicketFilter(level="none"), 50, None, s.now)[0]
    assert spam.ids and all(views[t].level is None for t in spam.ids)


@pytest.mark.parametrize("col", ["id", "created_at", "department"])
def test_tickets_sort_by_column(seeded: Seeded, col: str) -> None:
    s = seeded
    views = s.service.views(s.policy, s.ids, s.now)
    for desc in (False, True):
        f = TicketFilter(order_by=col, descending=desc)
        ids, after = [], None
        while True:
            page = s.service.ticket_page(s.policy, f, 6, after, s.now, count=False)[0]
            ids.extend(page.ids)
            if not page.has_next:
                break
            after = page.cursors[-1]
        with s.service.store.read() as cur:
            cur.execute('SELECT "id", "created_at", "department" FROM "ticket"')
            stored = {r[0]: r for r in cur.fetchall()}
        pos = {"id": 0, "created_at": 1, "department": 2}[col]
        present = sorted(
            (r for r in stored.values() if r[pos] is not None),
            key=lambda r: (r[pos], r[0]),
            reverse=desc,
        )
        missing = sorted(
            (r for r in stored.values() if r[pos] is None), key=lambda r: r[0], reverse=desc
        )
        assert ids == [r[0] for r in present + missing], (col, desc)
        assert set(ids) == set(views)


def test_a_log_walk_neither_repeats_nor_skips_rows_while_tickets_change(
    service: TicketService,
) -> None:
    """Regression (issue 18): OFFSET pages repeated rows when cycles were written meanwhile."""
    s = seed(service, 3)
    before = {(r.ticket_id, r.metric, r.index) for r, _ in oracle_rows(s)}
    first = s.service.sla_log(s.policy, LogFilter(), 10, None, s.now, False)
    seen = [(r.ticket_id, r.metric, r.index) for r in first.rows]
    # meanwhile: tickets that started before the cursor get new cycles, rows are rewritten
    late = s.now
    early = [t for t in s.ids if t.startswith("T")][:6]
    s.service.record_events(
        s.policy,
        [
            RawEvent(t, f"{t}-late", {"at": late, "type": "message", "by": "customer"})
            for t in early
        ],
        late,
    )
    for i in range(3):
        s.service.record_ticket(
            s.policy,
            {
                "id": f"A-new{i}",
                "created_at": START - timedelta(hours=1),
                "fields": {"status": "new"},
            },
            late,
        )
    after = first.cursors[-1]
    while after:
        page = s.service.sla_log(s.policy, LogFilter(), 10, after, late, False)
        seen.extend((r.ticket_id, r.metric, r.index) for r in page.rows)
        after = page.cursors[-1] if page.has_next else None
    assert len(seen) == len(set(seen))  # none repeated
    assert before <= set(seen)  # none skipped


def test_a_cursor_of_another_sort_is_refused(seeded: Seeded) -> None:
    s = seeded
    page = s.service.sla_log(s.policy, LogFilter(), 3, None, s.now, False)
    with pytest.raises(ServiceError, match="not a cursor of this list"):
        s.service.sla_log(s.policy, LogFilter(order_by="due_at"), 3, page.cursors[-1], s.now)
    with pytest.raises(ServiceError, match="not a cursor of this list"):
        s.service.sla_log(s.policy, LogFilter(), 3, "bm9wZQ", s.now)
    with pytest.raises(ServiceError, match="not a cursor of this list"):
        s.service.ticket_page(s.policy, TicketFilter(), 3, page.cursors[-1], s.now)


def test_a_cursor_of_an_earlier_version_still_reads(seeded: Seeded) -> None:
    """Cursors are compact JSON now (orjson); one a client kept from an earlier version
    (`json.dumps`, with spaces) gives the same next page."""
    s = seeded
    for f, pages in ((LogFilter(), s.service.sla_log), (TicketFilter(), s.service.ticket_page)):
        first = pages(s.policy, f, 3, None, s.now, False)
        page = first[0] if isinstance(first, tuple) else first
        cursor = page.cursors[-1]
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        old = base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
        assert old != cursor and " " in json.dumps(value)
        assert pages(s.policy, f, 3, old, s.now, False) == pages(
            s.policy, f, 3, cursor, s.now, False
        )


def test_iter_log_streams_every_row_once(seeded: Seeded) -> None:
    s = seeded
    chunks = list(s.service.store.queries.iter_log(LogFilter(), s.now, chunk=8))
    assert all(len(c) <= 8 for c in chunks)
    keys = [(r.ticket_id, r.metric, r.index) for c in chunks for r, _ in c]
    assert len(keys) == len(set(keys)) == len(oracle_rows(s))
    assert replace(LogFilter(), order_by="started_at") == LogFilter()


def _hashed_when_eligible(sql: Any, w: Any, estimate: Any) -> Any:
    from slarules.store import logplans

    ok = bool(w.parts) and all(logplans._ID_INDEXED.match(p) for p in w.parts)
    return logplans.HASHED if ok else logplans.WALK


def test_postgres_hashed_ticket_ids_give_the_engine_rows(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's `HASHED` log plan (a cycle's ticket id tested against the set of the
    matching ids), forced for every page it may take: the rows of the oracle, in order,
    walked in pages in both directions, and the same export chunks."""
    s = seeded
    if not s.service.store.sql.pg:
        pytest.skip("a PostgreSQL plan")
    monkeypatch.setattr("slarules.store.logplans.pg_log_plan", _hashed_when_eligible)
    rows = oracle_rows(s)
    filters = [
        LogFilter(assignee="ana"),
        LogFilter(department="billing"),
        LogFilter(level="urgent"),
        LogFilter(department="support", level="standard"),
        LogFilter(assignee="bo", department="billing", level="standard"),
    ]
    for f in filters:
        everything = [r for r, fields in rows if matches(r, fields, f)]
        assert everything, f
        for col, desc in (("started_at", False), ("started_at", True), ("due_at", False)):
            g = replace(f, order_by=col, descending=desc)
            walked = _walk(s, g, 3)
            if col == "started_at":
                assert walked == _sorted(everything, col, desc), g
            assert sorted(map(astuple, walked)) == sorted(map(astuple, everything)), g
        chunks = list(s.service.store.queries.iter_log_raw(f, s.now, chunk=4))
        assert sum(map(len, chunks)) == len(everything)


def test_the_hashed_plan_pays_between_its_bounds() -> None:
    from slarules.store.logplans import hashes_well

    n = 100_000  # the year store: agent7's 2,307 and agent1's 4,820 tickets hash well
    table = [(500, False), (822, False), (2_307, True), (4_820, True), (6_400, False),
             (8_362, False), (24_872, False)]  # fmt: skip
    assert [(m, hashes_well(m, n)) for m, _ in table] == table
    assert not hashes_well(10, 0)
