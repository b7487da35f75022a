"""Issue 11 item 1 end to end on PostgreSQL: one ticket whose alert JSON is over NOTIFY's
8,000-byte limit (a 9,000-character assignee) among normal ones; every alert is delivered
exactly once by the real scheduler and webhook, and the subscription hears them all."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from slarules.app import create_app
from slarules.clock import FrozenClock
from slarules.settings import DatabaseConfig, Settings
from tests.alerts.conftest import EXAMPLES, T0, move_clock, urgent
from tests.alerts.receiver import wait_until, webhook_receiver
from tests.service.conftest import Api
from tests.service.gql import RECORD_TICKET

pytestmark = pytest.mark.postgres


def test_an_oversized_ticket_blocks_no_alert_on_postgres(
    pg_database: Callable[..., DatabaseConfig],
) -> None:
    big = "a" * 9000
    settings = replace(
        Settings(database=pg_database()),
        rules=EXAMPLES,
        webhook_url="http://placeholder",
        max_key_bytes=20_000,  # an admin raised the documented limit: alerts must still flow
        max_clock_skew=86_400.0,
    )
    with webhook_receiver() as rec:
        app = create_app(settings, FrozenClock(T0))
        with TestClient(app) as client:
            api = Api(client, app.state.runtime.clock, app)
            api.runtime.scheduler.webhook_url = rec.url
            names = [f"T-{i}" for i in range(5)]
            for i, name in enumerate(names):
                who = big if i == 2 else f"agent{i}"
                api.data(RECORD_TICKET, urgent(name, assignee=who))
            heard: list[str] = []
            with api.client.websocket_connect(
                "/graphql", subprotocols=["graphql-transport-ws"]
            ) as ws:
                ws.send_json({"type": "connection_init"})
                assert ws.receive_json()["type"] == "connection_ack"
                sub = "subscription { slaAlerts { id assignee } }"
                ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": sub}})
                while api.runtime.broadcaster.subscribers == 0:
                    ws.send_json({"type": "ping"})
                    assert ws.receive_json()["type"] == "pong"
                move_clock(api, T0 + timedelta(minutes=30))  # each ticket's 50% warning
                for _ in names:
                    msg = ws.receive_json()
                    assert msg["type"] == "next", msg
                    heard.append(msg["payload"]["data"]["slaAlerts"]["id"])
            rec.wait_for(len(names))
            for _ in range(3):  # give a (wrong) repeat the chance to show up
                api.runtime.wake_scheduler()
                time.sleep(0.2)
            ids = rec.ids()
            assert len(ids) == len(names) == len(set(ids))  # each exactly once
            assert sorted(ids) == sorted(heard)
            by_ticket = {p["ticketId"]: p for p in rec.delivered}
            assert by_ticket["T-2"]["assignee"] == big
            assert api.runtime.store.alerts.list() and all(
                a["status"] == "delivered" for a in api.runtime.store.alerts.list()
            )
            q = (
                "query($f: AlertHistoryFilter) { alerts(filter: $f, first: 50) "
                "{ edges { node { ticketId assignee } } } }"
            )
            every = api.data(q)["alerts"]["edges"]
            assert len(every) == len(names)  # the history reads the same stored alerts
            one = api.data(q, {"f": {"assignee": "agent3", "level": "urgent"}})["alerts"]["edges"]
            assert [e["node"]["ticketId"] for e in one] == ["T-3"]
            wait_until(lambda: api.runtime.scheduler.passes > 0)
            assert api.runtime.scheduler.last_error is None
