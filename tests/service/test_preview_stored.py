"""The preview's fast path: the OLD side read from the store equals measuring it.

A store of open, done, reopened and waiting tickets recorded through the service under
the help desk example (business calendar, response metrics, pauses, warnings), some
with events after their last measurement or after the preview's `now`. Reading the old
measurement from the store (stored=True) and measuring every history (stored=False)
give the same report, and each stored measurement the fast path uses equals the
engine's measure of the history in everything the tally reads.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slarules.dsl import build
from slarules.dsl.source import SourceFile
from slarules.engine.policy import Policy
from slarules.rulesets import read_sources
from slarules.service import RawEvent, TicketService
from slarules.service.preview import measure_at, preview_store
from slarules.service.recording import history_of
from slarules.service.verdicts import measured_verdict, stored_verdict, verdict
from slarules.settings import DatabaseConfig
from slarules.store import Store
from slarules.store.histories import Histories
from tests.service.rules import T0

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "helpdesk"
NOW = T0 + timedelta(days=6)
SINCE = T0 - timedelta(days=30)


def _policies() -> tuple[Policy, Policy]:
    sources = read_sources(EXAMPLES)
    old = build(sources).policy
    changed = [
        SourceFile(s.name, s.data.replace(b"8h", b"2h").replace(b"30m", b"10m")) for s in sources
    ]
    new = build(changed).policy
    assert old is not None and new is not None
    return old, new


def _event(rnd: random.Random, k: int, at: datetime) -> dict[str, Any]:
    roll = rnd.random()
    if roll < 0.45:
        by = rnd.choice(["customer", "agent", "agent"])
        public = by == "customer" or rnd.random() < 0.8
        return {"at": at, "type": "message", "by": by, "public": public, "text": f"m{k}"}
    if roll < 0.8:
        status = rnd.choice(["open", "pending", "on hold", "waiting for vendor", "solved", "open"])
        return {"at": at, "type": "status", "status": status}
    change = rnd.choice(
        [{"priority": "critical"}, {"tags": ["on-site-visit"]}, {"customer_group": "standard"}]
    )
    return {"at": at, "type": "update", "set": change, "unset": []}


def _seed(config: DatabaseConfig, old: Policy, n: int = 60) -> Store:
    store = Store.open(config)
    svc = TicketService(store, skew=10**8)
    store.save_ruleset(old, {"x.sla": "…"}, T0 - timedelta(days=60))
    rnd = random.Random(16)
    for i in range(n):
        created = T0 + timedelta(hours=rnd.randint(0, 72), minutes=rnd.randint(0, 59))
        fields = {
            "priority": rnd.choice(["low", "medium", "high", "critical"]),
            "customer_group": rnd.choice(["VIP", "standard"]),
            "source": rnd.choice(["email", "chat", "phone", "web"]),
            "tags": rnd.choice([["urgent"], [], ["billing"]]),
            "requester": f"r{i % 5}@example.com",
            "contract_tier": rnd.choice(["enterprise", "basic"]),
        }
        tid = f"S{i:03}"
        by = rnd.choice(["customer", "customer", "agent"])
        measured = created + timedelta(minutes=1)
        svc.record_ticket(
            old, {"id": tid, "created_at": created, "created_by": by, "fields": fields}, measured
        )
        at = created
        for k in range(rnd.randint(0, 9)):
            at += timedelta(minutes=rnd.randint(1, 600))
            # measured when it arrived, or (some) recorded ahead of the clock: stored but
            # not folded into the ticket's stored measurement
            measured = at if rnd.random() < 0.9 else at - timedelta(hours=2)
            svc.record_events(old, [RawEvent(tid, f"e{k}", _event(rnd, k, at))], measured)
        if i % 4 == 0:  # solved for sure: a done ticket
            at += timedelta(minutes=30)
            raw = {"at": at, "type": "status", "status": "solved"}
            svc.record_events(old, [RawEvent(tid, "done", raw)], at)
    return store


@pytest.fixture(scope="module")
def stored_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[DatabaseConfig, Policy, Policy]:
    from slarules.settings import parse_database_url

    old, new = _policies()
    config = parse_database_url(f"sqlite:///{tmp_path_factory.mktemp('s') / 'store.db'}")
    _seed(config, old).close()
    return config, old, new


@pytest.mark.parametrize("hours", [0, 80, -60, -90])
def test_stored_old_side_gives_the_measured_report(
    stored_db: tuple[DatabaseConfig, Policy, Policy], hours: int
) -> None:
    config, old, new = stored_db
    now = NOW + timedelta(hours=hours)
    fast = preview_store(config, old, new, SINCE, now, jobs=1, batch=17).as_dict()
    slow = preview_store(config, old, new, SINCE, now, jobs=1, batch=17, stored=False).as_dict()
    assert fast == slow
    assert fast["tickets"] == 60 and fast["changed"] > 0


def test_each_stored_verdict_used_is_the_engines(
    stored_db: tuple[DatabaseConfig, Policy, Policy],
) -> None:
    config, old, _ = stored_db
    used = {"done": 0, "open": 0, "measured": 0}
    with Histories(config) as reader:
        got = reader.tickets([f"S{i:03}" for i in range(60)])
        known = reader.measured([s.head for s in got], old.version)
        for now in (NOW, NOW + timedelta(days=5), T0 + timedelta(hours=40)):
            for s in got:
                v = stored_verdict(old, s.head, s.events, known.get(s.head.id), now)
                if v is None:
                    used["measured"] += 1
                    continue
                used["done" if s.head.done else "open"] += 1
                assert v == verdict(measure_at(old, history_of(s.head, s.events), now))
    # every path is taken: done tickets as stored, open ones projected, the rest measured
    assert min(used.values()) >= 5, used


def test_other_versions_and_unfolded_events_are_measured(
    stored_db: tuple[DatabaseConfig, Policy, Policy],
) -> None:
    config, old, _ = stored_db
    other = replace(old, version="another")
    with Histories(config) as reader:
        got = reader.tickets([f"S{i:03}" for i in range(60)])
        assert reader.measured([s.head for s in got], other.version) == {}
        known = reader.measured([s.head for s in got], old.version)
        assert len(known) == 60
        for s in got:
            k = known[s.head.id]
            assert stored_verdict(other, s.head, s.events, k, NOW) is None
            last = max((e.at for e in s.events), default=s.head.created_at)
            assert s.head.measured_at is not None
            if last > s.head.measured_at:  # an event the stored measurement did not fold
                assert stored_verdict(old, s.head, s.events, k, NOW) is None
            before = last - timedelta(seconds=1)
            if s.events and before >= s.head.created_at:  # `now` before the last event
                assert stored_verdict(old, s.head, s.events, k, before) is None


def test_the_measured_verdict_is_the_measurements(
    stored_db: tuple[DatabaseConfig, Policy, Policy],
) -> None:
    config, old, new = stored_db
    with Histories(config) as reader:
        got = reader.tickets([f"S{i:03}" for i in range(60)])
    for now in (NOW, NOW + timedelta(days=5), T0 + timedelta(hours=40), T0):
        for policy in (old, new):
            for s in got:
                h = history_of(s.head, s.events)
                assert measured_verdict(policy, h, now) == verdict(measure_at(policy, h, now))


def test_both_paths_agree_on_either_database(database: DatabaseConfig) -> None:
    old, new = _policies()
    _seed(database, old, n=20).close()
    for now in (NOW, T0 + timedelta(hours=40)):
        fast = preview_store(database, old, new, SINCE, now, jobs=1, batch=7)
        slow = preview_store(database, old, new, SINCE, now, jobs=1, batch=7, stored=False)
        assert fast.as_dict() == slow.as_dict()
    with Histories(database) as reader:
        got = reader.tickets([f"S{i:03}" for i in range(20)])
        known = reader.measured([s.head for s in got], old.version)
        used = [stored_verdict(old, s.head, s.events, known.get(s.head.id), NOW) for s in got]
        for s, v in zip(got, used, strict=True):
            if v is not None:
                assert v == verdict(measure_at(old, history_of(s.head, s.events), NOW))
    assert any(v is not None for v in used)
