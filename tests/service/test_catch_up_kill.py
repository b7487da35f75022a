"""Issue 11 items 2 and the "Tests and figures" note: `kill -9` during the background
re-measure of start-up (rules changed while the server was down) loses and duplicates
nothing, and the next start finishes it: every open ticket ends up measured under the
current version, with the cycles and rule evaluations a clean catch-up gives.

A real server process (`slarules serve`) whose catch-up is slowed (batches of 10, a pause
inside each write transaction) is killed with SIGKILL once some batches are committed and
some are not; then the plain server starts on the same file and `/healthz` says when its
catch-up is done. A second store seeded the same way is caught up in-process, never
killed, as the reference. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slarules.clock import FrozenClock
from slarules.runtime import build_ruleset
from slarules.service import RawEvent, TicketService
from slarules.settings import DatabaseConfig, parse_database_url
from slarules.store import Store
from tests.alerts.conftest import EXAMPLES
from tests.alerts.receiver import wait_until
from tests.alerts.servers import ROOT, free_port, server

pytestmark = pytest.mark.slow

N = 300  # tickets; every fifth one is solved (done tickets keep their version)

SLOW_CATCH_UP = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
import slarules.runtime
from slarules.service.recording import Recorder

slarules.runtime.REMEASURE_BATCH = 10
real = Recorder._persist

def slow(self, *args, **kwargs):
    time.sleep(0.05)  # inside the batch's write transaction: a kill lands mid-batch
    return real(self, *args, **kwargs)

Recorder._persist = slow
from slarules.cli import main
sys.exit(main(["serve", *sys.argv[1:]]))
"""


def _seed(db: DatabaseConfig, rules: Path, now: datetime) -> str:
    """Urgent tickets created 50 minutes ago: their next threshold (a warning) is minutes
    ahead, so the alert scheduler leaves them alone and only the catch-up re-measures."""
    created = now - timedelta(minutes=50)
    live, result = build_ruleset(rules, now)
    assert live is not None, result.diagnostics
    policy = live.policy
    store = Store.open(db)
    svc = TicketService(store)
    fields = {"status": "new", "source": "email", "priority": "high", "tags": ["urgent"]}
    for i in range(N):
        tid = f"T-{i:03}"
        svc.record_ticket(policy, {"id": tid, "created_at": created, "fields": fields}, now)
        steps = [
            (10, {"type": "message", "by": "agent"}),
            (40, {"type": "message", "by": "customer"}),
        ]
        if i % 5 == 0:
            steps.append((45, {"type": "status", "status": "solved"}))
        events = [
            RawEvent(tid, f"e{k}", {"at": created + timedelta(minutes=m), **ev})
            for k, (m, ev) in enumerate(steps)
        ]
        svc.record_events(policy, events, now, views=False)
    store.close()
    return policy.version


def _change_rules(rules: Path) -> None:
    levels = rules / "10-levels.sla"
    text = levels.read_text()
    assert "first_response 1h" in text
    levels.write_text(text.replace("first_response 1h", "first_response 2h"))


def _rows(db: DatabaseConfig, sql: str) -> list[tuple[Any, ...]]:
    store = Store.open(db)
    try:
        with store.sql.read() as cur:
            store.sql.execute(cur, sql)
            return [tuple(r) for r in cur.fetchall()]
    finally:
        store.close()


@pytest.fixture
def two_stores(database: DatabaseConfig, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """The store the servers use and a reference store of the same dialect."""
    if database.provider == "sqlite":
        return database, parse_database_url(f"sqlite:///{tmp_path / 'reference.db'}")
    return database, request.getfixturevalue("pg_database")()


def _caught_up_in_process(db: DatabaseConfig, rules: Path) -> str:
    from dataclasses import replace

    from starlette.testclient import TestClient

    from slarules.app import create_app
    from slarules.settings import Settings

    settings = replace(Settings(database=db), rules=rules)
    app = create_app(settings, FrozenClock(datetime.now(UTC)))
    with TestClient(app) as client:
        wait_until(lambda: client.get("/healthz").json()["ruleset_current"], timeout=120)
        return str(app.state.runtime.ruleset.policy.version)


def _healthz(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            got: dict[str, Any] = json.loads(r.read())
    except urllib.error.HTTPError as e:  # 503 while something is not ok: still a body
        got = json.loads(e.read())
    return got


VERSIONS = 'SELECT "id", "done", "ruleset_version" FROM "ticket" ORDER BY "id"'
CYCLES = (
    'SELECT "ticket_id", "metric", "idx", "started_at", "stopped_at", "due_at", "target", '
    '"ruleset_version" FROM "cycle" ORDER BY 1, 2, 3'
)
EVALUATIONS = (
    'SELECT "ticket_id", "seq", "at", "ruleset_version", "level_after", "decided_by" '
    'FROM "evaluation" ORDER BY 1, 2'
)
EVENTS = 'SELECT "ticket_id", "event_id", "at", "type", "payload" FROM "event" ORDER BY 1, 2'


def test_kill_9_during_the_start_up_catch_up_loses_nothing(
    tmp_path: Path, two_stores: tuple[DatabaseConfig, DatabaseConfig]
) -> None:
    db, reference = two_stores
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLES, rules)
    now = datetime.now(UTC).replace(microsecond=0)
    old = _seed(db, rules, now)
    assert _seed(reference, rules, now) == old  # the same store twice
    _change_rules(rules)
    events_before = _rows(db, EVENTS)
    done_before = [r for r in _rows(db, VERSIONS) if r[1]]
    open_ids = [r[0] for r in _rows(db, VERSIONS) if not r[1]]
    assert len(open_ids) == N - N // 5 and len(events_before) == 2 * N + N // 5

    new = _caught_up_in_process(reference, rules)  # the reference: never killed
    assert new != old

    env = {"SLA_DATABASE_URL": db.display, "SLA_RULES": str(rules)}
    script = tmp_path / "slow_server.py"
    script.write_text(SLOW_CATCH_UP)
    port = free_port()
    with server(port, env, tmp_path, script) as proc:
        end = time.monotonic() + 120
        while True:  # some batches committed, some not: kill it now
            left = _healthz(port).get("remeasuring", 0)
            if 0 < left <= len(open_ids) - 20:
                break
            assert time.monotonic() < end and proc.poll() is None, "the catch-up never ran"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    half = {r[0]: r[2] for r in _rows(db, VERSIONS) if not r[1]}
    stale = [t for t, v in half.items() if v != new]
    assert 0 < len(stale) < len(open_ids)  # the kill came in the middle of the catch-up

    port = free_port()
    with server(port, env, tmp_path):
        end = time.monotonic() + 120
        while not (h := _healthz(port)).get("ruleset_current"):
            assert time.monotonic() < end, h
            time.sleep(0.05)
        assert h["remeasuring"] == 0 and h["ruleset"] == new

    versions = _rows(db, VERSIONS)
    assert len(versions) == N
    assert all(v == new for t, done, v in versions if not done)  # every open ticket current
    assert [r for r in versions if r[1]] == done_before  # done tickets keep their version
    assert _rows(db, EVENTS) == events_before  # no event lost or duplicated
    cycles, evaluations = _rows(db, CYCLES), _rows(db, EVALUATIONS)
    keys = [c[:3] for c in cycles]
    assert len(keys) == len(set(keys))  # no cycle written twice
    assert len({e[:2] for e in evaluations}) == len(evaluations)
    assert cycles == _rows(reference, CYCLES)  # the cycles a clean catch-up gives
    assert evaluations == _rows(reference, EVALUATIONS)
