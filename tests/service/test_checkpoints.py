"""Incremental ingest (events folded onto stored checkpoints) against a full re-measure:
the same stored rows, the same views, out-of-order and same-instant events included."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slarules.engine.timers import measure
from slarules.rulesets import load_policy
from slarules.service import RawEvent, TicketService
from slarules.service.recording import history_of
from slarules.settings import DatabaseConfig, parse_database_url
from slarules.store import Store
from tests.service.rules import T0

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "examples" / "helpdesk")
NOW = T0 + timedelta(days=6)
_ids = itertools.count()


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TicketService]:
    path = tmp_path_factory.mktemp("cp") / "db.sqlite"
    cfg: DatabaseConfig = parse_database_url(f"sqlite:///{path}")
    s = Store.open(cfg)
    yield TicketService(s)
    s.close()


def raw_event(minute: int, kind: str) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minute)
    if kind == "customer":
        return {"at": at, "type": "message", "by": "customer", "text": "hi"}
    if kind in ("agent", "note"):
        return {"at": at, "type": "message", "by": "agent", "public": kind == "agent"}
    if kind in ("pending", "open", "solved", "on hold"):
        return {"at": at, "type": "status", "status": kind}
    return {"at": at, "type": "update", "set": {"priority": kind}}


def rows(svc: TicketService, tid: str) -> dict[str, Any]:
    """The ticket's stored rows (ids and write order left out)."""
    sql = svc.store.sql
    out = {}
    with sql.read() as cur:
        for table, key, order in (
            ("ticket", "id", "id"),
            ("cycle", "ticket_id", "metric, idx"),
            ("evaluation", "ticket_id", "seq"),
        ):
            sql.execute(cur, f'SELECT * FROM "{table}" WHERE "{key}" = ? ORDER BY {order}', (tid,))
            names = [d[0] for d in cur.description]
            out[table] = [
                {n: v for n, v in zip(names, r, strict=True) if n != "id" or table == "ticket"}
                for r in cur.fetchall()
            ]
    return out


KINDS = ["customer", "agent", "note", "pending", "open", "solved", "on hold", "critical", "low"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 0, 5, 40, 300, -20]), st.sampled_from(KINDS)), max_size=12
    ),
    st.lists(st.integers(1, 4), max_size=6),
)
@example([(0, "agent"), (0, "customer"), (0, "solved")], [])  # rows kept in place: cycle order
def test_incremental_ingest_stores_what_a_full_remeasure_stores(
    svc: TicketService, steps: list[tuple[int, str]], batches: list[int]
) -> None:
    tid = f"T{next(_ids)}"
    svc.record_ticket(POLICY, {"id": tid, "created_at": T0, "fields": {"status": "new"}}, NOW)
    minute, events = 0, []
    for i, (dm, kind) in enumerate(steps):
        minute = max(0, minute + dm)  # out of order (−20) and same instant (0) included
        events.append(RawEvent(tid, f"e{i}", raw_event(minute, kind)))
    sizes = itertools.cycle(batches or [1])
    i = 0
    while i < len(events):
        n = next(sizes)
        svc.record_events(POLICY, events[i : i + n], NOW)
        i += n
    view = svc.views(POLICY, [tid], NOW)[tid]
    incremental = rows(svc, tid)
    svc.remeasure(POLICY, [tid], NOW)  # the full path: replay, rewrite every cycle row
    assert rows(svc, tid) == incremental
    assert svc.views(POLICY, [tid], NOW)[tid] == view
    repo = svc.store.tickets
    with svc.store.read() as cur:
        head = repo.heads(cur, [tid])[tid]
        m = measure(POLICY, history_of(head, repo.events(cur, [tid])[tid]), NOW)
    assert view.cycles == m.cycles and view.level == m.level
    # a read later on projects the running cycles; it is what a full measure says then
    later = NOW + timedelta(hours=30)
    with svc.store.read() as cur:
        m2 = measure(POLICY, history_of(head, repo.events(cur, [tid])[tid]), later)
    assert svc.views(POLICY, [tid], later)[tid].cycles == m2.cycles


def test_a_checkpoint_of_another_ruleset_is_a_miss(svc: TicketService) -> None:
    from dataclasses import replace

    tid = "V"
    svc.record_ticket(POLICY, {"id": tid, "created_at": T0, "fields": {"status": "new"}}, NOW)
    other = replace(POLICY, version="other")
    svc.record_events(other, [RawEvent(tid, "a", raw_event(3, "agent"))], NOW)
    with svc.store.read() as cur:
        point = svc.store.tickets.checkpoints(cur, [tid])[tid]
    assert point.ruleset_version == "other" and point.state["events"] == 1


@given(st.lists(st.lists(st.booleans(), max_size=4), max_size=4))
def test_a_runs_hits_survive_their_stored_text(levels: list[list[bool]]) -> None:
    from slarules.service.checkpoints import _hits_of, _hits_text

    hits = tuple(tuple(h) for h in levels)
    assert _hits_of(_hits_text(hits)) == hits
    assert _hits_of(levels) == hits  # the nested lists earlier checkpoints stored
