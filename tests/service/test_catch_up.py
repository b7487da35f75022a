"""Issue 11 item 2: rules changed while the server was down (or a background re-measure cut
short by a crash) — start-up re-measures every open ticket measured under another version,
in the background, and /healthz says when it is done."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import slarules.runtime
from slarules.service import remeasure
from tests.alerts.conftest import EXAMPLES, engine_api, urgent
from tests.alerts.receiver import wait_until
from tests.service.conftest import Api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET

LOG = "{ slaLog(first: 500) { edges { node { ticketId rulesetVersion dueAt } } } }"
N = 12


def _rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLES, rules)
    return rules


def _versions(db: Path) -> dict[str, set[str]]:
    """The version each ticket was last measured under, as stored (reads measure on the fly)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute('SELECT "id", "ruleset_version" FROM "ticket"').fetchall()
    return {r[0]: {r[1]} for r in rows}


def _seed(api: Api) -> None:
    for i in range(N):
        api.data(RECORD_TICKET, urgent(f"T-{i:02}"))
    done = {"eventId": "done", "ticketId": "T-00", "at": "2026-03-02T12:00:00Z"}
    api.data(RECORD_EVENTS, {"events": [{**done, "status": "solved"}]})


def _change_rules(rules: Path) -> None:
    levels = rules / "10-levels.sla"
    levels.write_text(levels.read_text().replace("first_response 1h", "first_response 2h"))


def test_start_up_remeasures_tickets_of_another_version_in_the_background(
    tmp_path: Path,
) -> None:
    rules = _rules(tmp_path)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        _seed(api)
        old = api.runtime.ruleset.policy.version
    _change_rules(rules)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        new = api.runtime.ruleset.policy.version
        assert new != old
        wait_until(lambda: api.client.get("/healthz").json()["ruleset_current"])
        health = api.client.get("/healthz").json()
        assert health["remeasuring"] == 0 and health["ruleset"] == new
        versions = _versions(tmp_path / "a.db")
        open_ids = [f"T-{i:02}" for i in range(1, N)]
        assert all(versions[t] == {new} for t in open_ids), versions  # was: still `old`
        assert versions["T-00"] == {old}  # a done ticket keeps the rules it was measured under
        assert api.runtime.metrics.tickets_remeasured._value.get() == N - 1


def test_a_crash_during_a_background_remeasure_is_finished_at_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = _rules(tmp_path)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        _seed(api)
    _change_rules(rules)
    monkeypatch.setattr(slarules.runtime, "REMEASURE_BATCH", 4)
    calls: list[int] = []

    def die_after_one_batch(rec: Any, policy: Any, inputs: Any, measured: Any, now: Any) -> int:
        calls.append(len(inputs.heads))
        if len(calls) > 1:
            raise RuntimeError("the process died")  # nothing after the first batch is saved
        return real(rec, policy, inputs, measured, now)

    def die_restamping(rec: Any, old: Any, new: Any, change: Any, ids: Any, now: Any) -> Any:
        calls.append(len(ids))  # the catch-up restamps from the stored previous version
        if len(calls) > 1:
            raise RuntimeError("the process died")
        return real_restamp(rec, old, new, change, ids, now)

    real = remeasure.save_batch  # each batch's write
    real_restamp = remeasure.restamp_batch
    monkeypatch.setattr(remeasure, "save_batch", die_after_one_batch)
    monkeypatch.setattr(remeasure, "restamp_batch", die_restamping)
    monkeypatch.setattr(remeasure, "RESTAMP_PROCESSES", 0)  # in this process: seen here
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        new = api.runtime.ruleset.policy.version
        wait_until(lambda: len(calls) > 1)
        wait_until(lambda: api.runtime._remeasure_task.done())
        stale = [t for t, v in _versions(tmp_path / "a.db").items() if v != {new} and t != "T-00"]
        assert len(stale) == N - 1 - 4  # the first batch only
    monkeypatch.setattr(remeasure, "save_batch", real)
    monkeypatch.setattr(remeasure, "restamp_batch", real_restamp)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        wait_until(lambda: api.client.get("/healthz").json()["ruleset_current"])
        versions = _versions(tmp_path / "a.db")
        assert all(versions[f"T-{i:02}"] == {new} for i in range(1, N)), versions


def test_reads_answer_while_the_catch_up_runs(tmp_path: Path, monkeypatch: Any) -> None:
    import threading

    rules = _rules(tmp_path)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        _seed(api)
    _change_rules(rules)
    gate = threading.Event()
    real = remeasure.save_batch

    def slow(rec: Any, policy: Any, inputs: Any, measured: Any, now: Any) -> int:
        gate.wait(10)
        return real(rec, policy, inputs, measured, now)

    def slow_restamp(rec: Any, old: Any, new: Any, change: Any, ids: Any, now: Any) -> Any:
        gate.wait(10)  # the catch-up restamps from the stored previous version
        return real_restamp(rec, old, new, change, ids, now)

    real_restamp = remeasure.restamp_batch
    monkeypatch.setattr(remeasure, "save_batch", slow)
    monkeypatch.setattr(remeasure, "restamp_batch", slow_restamp)
    monkeypatch.setattr(remeasure, "RESTAMP_PROCESSES", 0)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        health = api.client.get("/healthz").json()  # start-up did not wait for it
        assert health["ruleset_current"] is False and health["ok"] is True
        wait_until(lambda: api.runtime.remeasuring == N - 1)
        assert api.client.get("/healthz").json()["remeasuring"] == N - 1
        assert len(api.data(LOG)["slaLog"]["edges"]) > 0  # reads answer meanwhile
        gate.set()
        wait_until(lambda: api.client.get("/healthz").json()["ruleset_current"])
        assert api.client.get("/healthz").json()["remeasuring"] == 0
