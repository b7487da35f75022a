"""Views of open tickets read from stored rows plus the engine's projection to `now`
(`engine.timers.measurement_of` over the stored checkpoint) equal a full re-measure of
the ticket's events at random instants: paused cycles, the exact breach instant and the
second after it, warning thresholds crossing, business calendars across DST changes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slarules import service as service_module
from slarules.engine.policy import Policy
from slarules.engine.reports import log_row
from slarules.rulesets import load_policy
from slarules.service import LogFilter, RawEvent, TicketService, TicketView
from slarules.settings import parse_database_url
from slarules.store import Store
from tests.service.reports_store import make_policy

ROOT = Path(__file__).resolve().parents[2]
# Berlin springs forward on 2026-03-29 (01:00 UTC), New York on 2026-03-08 (07:00 UTC)
BERLIN_DST = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
NY_DST = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
STATUSES = ["open", "pending", "waiting for vendor", "on hold", "answered"]


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TicketService]:
    path = tmp_path_factory.mktemp("fast") / "db.sqlite"
    store = Store.open(parse_database_url(f"sqlite:///{path}"))
    yield TicketService(store)
    store.close()


def _events(rng: random.Random, tid: str, created: datetime) -> list[RawEvent]:
    out, t = [], created
    for k in range(rng.randrange(0, 9)):
        t += timedelta(minutes=rng.choice([0, 1, 7, 30, 90, 240, 900]))
        r = rng.random()
        if r < 0.35:
            ev: dict[str, Any] = {"type": "message", "by": rng.choice(["agent", "customer"])}
        elif r < 0.7:
            ev = {"type": "status", "status": rng.choice(STATUSES)}
        elif r < 0.85:
            ev = {"type": "update", "set": {"priority": rng.choice(["low", "high", "critical"])}}
        else:
            ev = {"type": "update", "set": {"tags": rng.choice([["urgent"], [], ["vip"]])}}
        out.append(RawEvent(tid, f"{tid}-{k}", {"at": t, **ev}))
    return out


def _seed(svc: TicketService, policy: Policy, dst: datetime, prefix: str, n: int) -> list[str]:
    rng = random.Random(prefix)
    ids = []
    for i in range(n):
        tid = f"{prefix}{i:03}"
        created = dst - timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        fields = {
            "status": "new",
            "priority": rng.choice(["low", "medium", "high", "critical"]),
            "source": rng.choice(["email", "chat", "phone"]),
            "tags": rng.choice([[], ["urgent"], ["vip"]]),
        }
        svc.record_ticket(policy, {"id": tid, "created_at": created, "fields": fields}, created)
        evs = _events(rng, tid, created)
        if evs:  # recorded as they happen: the checkpoint is the state after the last one
            svc.record_events(policy, evs, evs[-1].raw["at"])
        ids.append(tid)
    return ids


def _full(svc: TicketService, policy: Policy, ids: list[str], now: datetime) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(service_module.checkpoints, "usable", lambda *_: False)
        return svc.views(policy, ids, now)


def _fast(svc: TicketService, policy: Policy, ids: list[str], now: datetime) -> Any:
    def refuse(*_: Any) -> Any:
        raise AssertionError("measured from the events: the fast path was not taken")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(service_module, "measure_at", refuse)
        return svc.views(policy, ids, now)


def _instants(v: TicketView, last: datetime, rng: random.Random, dst: datetime) -> set[datetime]:
    """Where the figures turn: each due and breach instant and the seconds around it,
    each threshold, the DST change, and a few random instants after the last event."""
    out = {last, dst, dst + timedelta(hours=1)}
    for c in v.cycles:
        for t in (c.due_at, c.breached_at, *(h.at for h in c.thresholds)):
            if t is not None:
                out |= {t - timedelta(seconds=1), t, t + timedelta(seconds=1)}
    out |= {last + timedelta(seconds=rng.randrange(0, 5 * 86_400)) for _ in range(6)}
    return {t for t in out if t >= last}


def _log_by_views(svc: TicketService, policy: Policy, rows: Any, now: datetime) -> Any:
    """The log rows of open tickets with a running cycle, all of them from full views."""
    open_ids = [r.ticket_id for r, done in rows if not done and r.stopped_at is None]
    views = _full(svc, policy, open_ids, now)
    out = []
    for r, done in rows:
        v = None if done else views.get(r.ticket_id)
        c = (
            None
            if v is None
            else next((c for c in v.cycles if (c.metric, c.index) == (r.metric, r.index)), None)
        )
        ok = v is not None and v.level is not None and c is not None
        out.append(log_row(r.ticket_id, v.level, c, v.fields) if ok else r)
    return out


@pytest.mark.parametrize(
    ("which", "dst"), [("helpdesk", BERLIN_DST), ("new_york", NY_DST)], ids=["berlin", "ny"]
)
def test_fast_views_equal_a_full_remeasure(svc: TicketService, which: str, dst: datetime) -> None:
    policy = load_policy(ROOT / "examples" / "helpdesk") if which == "helpdesk" else make_policy()
    ids = _seed(svc, policy, dst, which[:2].upper(), 30)
    repo = svc.store.tickets
    with svc.store.read() as cur:
        points = repo.checkpoints(cur, ids)
        heads = repo.heads(cur, ids)
    open_ids = [t for t in ids if not heads[t].done and t in points]
    assert len(open_ids) >= 15
    rng = random.Random(which)
    seen_states: set[str] = set()
    compared = 0
    for t in open_ids:
        last = max(points[t].last_at, heads[t].created_at)
        for now in sorted(
            _instants(_full(svc, policy, [t], last + timedelta(days=2))[t], last, rng, dst)
        ):
            full = _full(svc, policy, [t], now)[t]
            assert _fast(svc, policy, [t], now)[t] == full, (t, now)
            seen_states |= {c.state for c in full.cycles}
            compared += 1
    paused = {"paused"} if which == "helpdesk" else set()  # the NY rules have no pause
    assert {"active", "breached", "met", *paused} <= seen_states, seen_states
    assert compared > 200
    # the SLA log's rows brought up to `now` from the checkpoints (running cycles only)
    # are those of the views, at instants after every last event and before some
    latest = max(max(points[t].last_at, heads[t].created_at) for t in open_ids)
    for now in (latest, latest + timedelta(seconds=1), latest + timedelta(hours=7), dst):
        rows = [
            (r, done)
            for chunk in svc.store.queries.iter_log(LogFilter(), now)
            for r, done in chunk
            if r.ticket_id in set(ids)
        ]
        assert svc._current(policy, rows, now) == _log_by_views(svc, policy, rows, now)
    # a page of them at once, and at an instant before some of their last events: those
    # are measured from their events (the checkpoint holds events after `now`)
    now = dst
    full = _full(svc, policy, open_ids, now)
    assert svc.views(policy, open_ids, now) == full
    # without the history (a page that shows neither events nor evaluations)
    bare = {t: replace(v, events=(), evaluations=()) for t, v in full.items()}
    assert svc.views(policy, open_ids, now, history=False) == bare
    assert any(v.events for v in full.values()) and any(v.evaluations for v in full.values())


def test_a_ticket_page_reads_the_history_only_when_a_node_shows_it(api: Any) -> None:
    from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, message, status, ticket

    api.data(RECORD_TICKET, ticket("T-1", tags=["urgent"]))
    api.data(RECORD_TICKET, ticket("T-2"))
    api.data(
        RECORD_EVENTS,
        {
            "events": [
                message("m1", "T-1", "2026-03-02T12:05:00Z"),
                status("s1", "T-2", "2026-03-02T12:06:00Z", "solved"),
            ]
        },
    )
    bare = api.data("{ tickets { edges { node { id cycles { state } } } } }")["tickets"]
    assert {e["node"]["id"] for e in bare["edges"]} == {"T-1", "T-2"}
    # in a fragment, and a ticket read beside a page without history: both have theirs
    got = api.data(
        "fragment H on Ticket { events { type } evaluations { levelAfter } }"
        "{ tickets { edges { node { id ...H } } } }"
    )["tickets"]["edges"]
    assert all(e["node"]["events"] and e["node"]["evaluations"] for e in got)
    both = api.data(
        '{ tickets { edges { node { id } } } ticket(id: "T-1") { events { type } '
        "evaluations { levelAfter } } }"
    )
    assert both["ticket"]["events"] == [{"type": "message"}] and both["ticket"]["evaluations"]
