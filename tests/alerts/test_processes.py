"""Alerts across process deaths and several processes (real servers, real clock, real webhook)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from slarules.settings import DatabaseConfig
from tests.alerts.receiver import wait_until, webhook_receiver
from tests.alerts.servers import (
    CRASHING_SERVER,
    FAST_RULES,
    free_port,
    gql,
    now_utc,
    record,
    server,
)


def _rows(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute('SELECT "id", "status", "attempts" FROM "alert" ORDER BY "id"'))


def test_an_alert_claimed_by_a_crashed_server_arrives_once_after_restart(tmp_path: Path) -> None:
    (tmp_path / "fast.sla").write_text(FAST_RULES)
    (tmp_path / "crashing.py").write_text(CRASHING_SERVER)
    db = tmp_path / "alerts.db"
    with webhook_receiver() as rec:
        env = {
            "SLA_RULES": str(tmp_path / "fast.sla"),
            "SLA_DATABASE_URL": f"sqlite:///{db}",
            "SLA_WEBHOOK_URL": rec.url,
            "SLA_ALERT_LEASE": "1",
        }
        port = free_port()
        with server(port, env, tmp_path, tmp_path / "crashing.py") as proc:
            record(port, "T-1", now_utc())  # warnings due after 1 s and 3 s
            assert proc.wait(timeout=20) == 17  # died at its first webhook POST
        claimed = [r for r in _rows(db) if r[1] == "claimed"]
        assert len(claimed) >= 1 and rec.posts == []  # claimed, committed, not delivered

        with server(free_port(), env, tmp_path):
            delivered = rec.wait_for(2, timeout=20)
            time.sleep(1.5)  # leases run out again: a repeat would show now
        ids = [d["id"] for d in rec.delivered]
        assert len(ids) == 2 and len(set(ids)) == 2, ids
        assert {c[0] for c in claimed} <= set(ids)
        assert sorted(d["percent"] for d in delivered) == [2.0, 5.0]
        assert {r[1] for r in _rows(db)} == {"delivered"}
        logs = [
            json.loads(line)
            for f in tmp_path.glob("server-*.log")
            for line in f.read_text().splitlines()
            if line.startswith("{")
        ]
        deliveries = [e for e in logs if e.get("event") == "alert.delivery"]
        assert sorted(e["alert"] for e in deliveries) == sorted(ids)  # one JSON line each
        assert all(e["ok"] and e["status"] == 200 for e in deliveries)
        requests = [e for e in logs if e.get("event") == "request"]
        assert any(e["path"] == "/graphql" and e["status"] == 200 for e in requests)


def _subscribe(port: int, got: list[dict[str, Any]], ready: threading.Event) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "id": "1",
                    "payload": {"query": "subscription { slaAlerts { id ticketId } }"},
                }
            )
        )
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "pong"
        ready.set()
        while True:
            try:
                msg = json.loads(ws.recv(timeout=3))
            except (TimeoutError, ConnectionClosed):
                return
            if msg["type"] != "next":
                return
            got.append(msg["payload"]["data"]["slaAlerts"])


@pytest.mark.postgres
def test_two_processes_on_postgresql_deliver_a_burst_once(
    tmp_path: Path, pg_database: Callable[..., DatabaseConfig]
) -> None:
    cfg = pg_database()
    (tmp_path / "fast.sla").write_text(FAST_RULES)
    n = 30
    with webhook_receiver() as rec:
        env = {
            "SLA_RULES": str(tmp_path / "fast.sla"),
            "SLA_DATABASE_URL": f"postgresql://{cfg.user}@{cfg.host}:{cfg.port}/{cfg.database}",
            "SLA_WEBHOOK_URL": rec.url,
        }
        ports = [free_port(), free_port()]
        with server(ports[0], env, tmp_path), server(ports[1], env, tmp_path):
            seen: list[list[dict[str, Any]]] = [[], []]
            readies = [threading.Event(), threading.Event()]
            subs = [
                threading.Thread(target=_subscribe, args=(p, seen[i], readies[i]), daemon=True)
                for i, p in enumerate(ports)
            ]
            for t in subs:
                t.start()
            for r in readies:
                assert r.wait(15)
            created = now_utc()
            for i in range(n):  # tickets alternate between the processes
                record(ports[i % 2], f"T-{i:02}", created)
            rec.wait_for(2 * n, timeout=30)
            time.sleep(1.0)
            ids = rec.ids()
            assert len(ids) == 2 * n and len(set(ids)) == 2 * n
            wait_until(lambda: all(len(s) >= 2 * n for s in seen), 15, lambda: str(seen))
            for s in seen:  # every process's subscribers saw every alert, once
                assert sorted(a["id"] for a in s) == sorted(ids)
            for t in subs:
                t.join(timeout=15)


@pytest.mark.postgres
def test_a_reload_on_one_process_reaches_the_others(
    tmp_path: Path, pg_database: Callable[..., DatabaseConfig]
) -> None:
    cfg = pg_database()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "fast.sla").write_text(FAST_RULES)
    env = {
        "SLA_RULES": str(rules),
        "SLA_DATABASE_URL": f"postgresql://{cfg.user}@{cfg.host}:{cfg.port}/{cfg.database}",
    }
    ports = [free_port(), free_port()]
    version = "{ ruleset { version } }"
    with server(ports[0], env, tmp_path), server(ports[1], env, tmp_path):
        old = gql(ports[1], version)["ruleset"]["version"]
        (rules / "fast.sla").write_text(
            FAST_RULES.replace("first_response 1m", "first_response 2m")
        )
        got = gql(ports[0], "mutation { reloadRules { ok ruleset { version } } }")["reloadRules"]
        assert got["ok"] and got["ruleset"]["version"] != old
        wait_until(
            lambda: gql(ports[1], version)["ruleset"]["version"] == got["ruleset"]["version"]
        )
