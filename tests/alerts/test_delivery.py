"""The alert scheduler end to end: real engine, frozen clock, a real webhook receiver."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from slarules.alerts.webhook import ID_HEADER, SIGNATURE_HEADER, verify
from slarules.engine.alerts import alert_id
from tests.alerts.conftest import T0, engine_api, move_clock, urgent
from tests.alerts.receiver import wait_until, webhook_receiver
from tests.service.conftest import Api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET

SECRET = "s3cret"


def _first_response_warning(**extra: Any) -> dict[str, Any]:
    """T-1's 50% first-response warning (urgent level, assignee ana) as the API shows it."""
    return {
        "id": alert_id("T-1", "first_response", T0, "warning", percent=50.0),
        "kind": "WARNING",
        "ticketId": "T-1",
        "metric": "FIRST_RESPONSE",
        "cycleIndex": 1,
        "cycleStartedAt": "2026-03-02T12:00:00Z",
        "percent": 50.0,
        "beforeSeconds": None,
        "at": "2026-03-02T12:30:00Z",
        "level": "urgent",
        "assignee": "ana",
        **extra,
    }


def _statuses(api: Api) -> dict[str, str]:
    return {a["id"]: a["status"] for a in api.runtime.store.alerts.list()}


def _alert_type_fields() -> set[str]:
    from slarules.graphql import types as g

    names = [f.python_name for f in g.Alert.__strawberry_definition__.fields]
    return {n.split("_")[0] + "".join(w.capitalize() for w in n.split("_")[1:]) for n in names}


def _settle(api: Api, seconds: float = 0.3) -> None:
    """Give a (wrongly) repeated delivery the chance to show up."""
    for _ in range(3):
        api.runtime.wake_scheduler()
        time.sleep(seconds / 3)


def test_warnings_and_breach_arrive_once_and_signed(tmp_path: Path) -> None:
    with (
        webhook_receiver() as rec,
        engine_api(
            tmp_path / "a.db", webhook_url="http://placeholder", webhook_secret=SECRET
        ) as api,
    ):
        api.runtime.scheduler.webhook_url = rec.url
        api.data(RECORD_TICKET, urgent("T-1", assignee="ana", department="support"))
        _settle(api)
        assert rec.posts == []  # nothing is due at creation

        move_clock(api, T0 + timedelta(minutes=30))  # first response 1h, warn at 50%
        (first,) = rec.wait_for(1)
        assert first == {
            **_first_response_warning(department="support"),
            "rulesetVersion": api.runtime.ruleset.policy.version,
        }
        assert set(first) == _alert_type_fields()  # the same shape
        headers, body = rec.posts[0]
        assert verify(SECRET, body, headers[SIGNATURE_HEADER.lower()])
        assert headers[ID_HEADER.lower()] == first["id"]

        move_clock(api, T0 + timedelta(minutes=50))  # warn before 15m (12:45), 80% (12:48)
        got = rec.wait_for(3)  # due together: delivered concurrently, in any order
        assert sorted((a["at"], a["percent"], a["beforeSeconds"]) for a in got[1:]) == [
            ("2026-03-02T12:45:00Z", None, 900),
            ("2026-03-02T12:48:00Z", 80.0, None),
        ]
        move_clock(api, T0 + timedelta(hours=1))  # the breach instant itself
        got = rec.wait_for(4)
        assert got[3]["kind"] == "BREACH" and got[3]["at"] == "2026-03-02T13:00:00Z"

        move_clock(api, T0 + timedelta(hours=1, seconds=5))
        _settle(api)
        assert len(rec.posts) == 4 and len(set(rec.ids())) == 4
        assert set(_statuses(api).values()) == {"delivered"}
        metrics = api.client.get("/metrics").text
        assert "slarules_alerts_delivered_total 4.0" in metrics
        assert "slarules_alerts_due_total 4.0" in metrics
        assert "slarules_alert_lag_seconds_count 4.0" in metrics
        assert 'slarules_cycles{state="breached"} 1.0' in metrics


def test_a_failing_webhook_is_retried_with_backoff_and_never_blocks_ingestion(
    tmp_path: Path,
) -> None:
    with (
        webhook_receiver(statuses=[500, 503]) as rec,
        engine_api(tmp_path / "a.db", webhook_url="http://placeholder") as api,
    ):
        api.runtime.scheduler.webhook_url = rec.url
        api.data(RECORD_TICKET, urgent("T-1"))
        at = T0 + timedelta(minutes=30)
        move_clock(api, at)
        wait_until(lambda: len(rec.posts) == 1)
        # ingestion goes on while the webhook fails
        api.data(RECORD_TICKET, urgent("T-2", at="2026-03-02T12:30:00Z"))
        (row,) = [a for a in api.runtime.store.alerts.list() if a["ticket_id"] == "T-1"]
        wait_until(lambda: _statuses(api)[row["id"]] == "pending")
        _settle(api)
        assert len(rec.posts) == 1  # the backoff has not passed on the frozen clock
        move_clock(api, at + timedelta(seconds=1))  # backoff 1 s
        wait_until(lambda: len(rec.posts) == 2)
        move_clock(api, at + timedelta(seconds=3))  # then 2 s
        assert [a["id"] for a in rec.wait_for(1)] == [row["id"]]
        _settle(api)
        assert len(rec.posts) == 3 and len(rec.delivered) == 1
        (row,) = [a for a in api.runtime.store.alerts.list() if a["ticket_id"] == "T-1"]
        assert row["status"] == "delivered" and row["attempts"] == 3
        assert "slarules_alerts_failed_total 2.0" in api.client.get("/metrics").text


def test_a_webhook_that_times_out_is_retried(tmp_path: Path) -> None:
    with (
        webhook_receiver(delays=[1.0]) as rec,
        engine_api(tmp_path / "a.db", webhook_url="http://placeholder", webhook_timeout=0.2) as api,
    ):
        api.runtime.scheduler.webhook_url = rec.url
        api.data(RECORD_TICKET, urgent("T-1"))
        move_clock(api, T0 + timedelta(minutes=30))
        wait_until(lambda: len(rec.posts) == 1)
        api.data(RECORD_TICKET, urgent("T-2", at="2026-03-02T12:30:00Z"))
        assert rec.answered == 0  # recorded while the webhook still hangs: ingestion never waits
        wait_until(lambda: "pending" in _statuses(api).values())
        move_clock(api, T0 + timedelta(minutes=30, seconds=1))
        assert len(rec.wait_for(1)) == 1
        _settle(api)
        assert len(rec.delivered) == 1 and len(rec.posts) == 2


def test_a_slow_webhook_does_not_hold_up_raising(tmp_path: Path) -> None:
    with (
        webhook_receiver(delays=[1.5]) as rec,
        engine_api(tmp_path / "a.db", webhook_url="http://placeholder") as api,
    ):
        api.runtime.scheduler.webhook_url = rec.url
        api.data(RECORD_TICKET, urgent("T-1"))
        move_clock(api, T0 + timedelta(minutes=30))
        wait_until(lambda: len(rec.posts) == 1)  # the 50% warning's POST hangs
        move_clock(api, T0 + timedelta(minutes=45))  # warn before 15m
        wait_until(lambda: len(_statuses(api)) == 2)
        assert rec.answered == 0  # raised while the first POST still hangs


def _tags(event_id: str, at: str, tags: list[str]) -> dict[str, object]:
    return {
        "events": [
            {"eventId": event_id, "ticketId": "T-1", "at": at, "update": {"set": {"tags": tags}}}
        ]
    }


def test_a_level_change_cancels_a_pending_alert_and_never_resends_a_delivered_one(
    tmp_path: Path,
) -> None:
    with (
        # Two failures: the first retry is due at 12:30:01, the instant the level change below
        # is recorded at; a scheduler pass that wins that race must fail too, so the alert is
        # still pending (not delivered) when the change cancels it.
        webhook_receiver(statuses=[500, 500]) as rec,
        engine_api(tmp_path / "a.db", webhook_url="http://placeholder") as api,
    ):
        api.runtime.scheduler.webhook_url = rec.url
        api.data(RECORD_TICKET, urgent("T-1"))
        move_clock(api, T0 + timedelta(minutes=30))
        wait_until(lambda: len(rec.posts) == 1)  # the 50% warning failed once: pending
        p50 = alert_id("T-1", "first_response", T0, "warning", percent=50.0)
        wait_until(lambda: _statuses(api).get(p50) == "pending")
        # not urgent any more: the standard level has no 50% warning
        api.clock.set(T0 + timedelta(minutes=30, seconds=1))
        got = api.data(RECORD_EVENTS, _tags("e1", "2026-03-02T12:30:01Z", []))
        assert got["recordEvents"]["tickets"][0]["level"] == {"name": "standard"}
        assert _statuses(api)[p50] == "cancelled"
        move_clock(api, T0 + timedelta(minutes=40))  # the retry instant has long passed
        _settle(api)
        assert rec.delivered == [] and len(rec.posts) in (1, 2)  # 2: the retry won the race

        # urgent again: the 50% warning is due again and delivered, once
        move_clock(api, T0 + timedelta(minutes=41))
        api.data(RECORD_EVENTS, _tags("e2", "2026-03-02T12:41:00Z", ["urgent"]))
        # Both 500s are spent by now (the second here or in the race above); once that attempt
        # has settled, move the frozen clock past its retry instant.
        wait_until(lambda: len(rec.posts) >= 2 and _statuses(api)[p50] != "claimed")
        move_clock(api, T0 + timedelta(minutes=41, seconds=10))
        assert rec.wait_for(1)[0]["id"] == p50
        # and a delivered alert is never sent again, whatever the level does
        api.clock.set(T0 + timedelta(minutes=42))
        api.data(RECORD_EVENTS, _tags("e3", "2026-03-02T12:42:00Z", []))
        api.clock.set(T0 + timedelta(minutes=43))
        api.data(RECORD_EVENTS, _tags("e4", "2026-03-02T12:43:00Z", ["urgent"]))
        _settle(api)
        assert rec.ids().count(p50) == 1 and _statuses(api)[p50] == "delivered"


def test_stopped_history_raises_no_alerts_but_late_events_cancel(tmp_path: Path) -> None:
    """An imported ticket answered long ago raises nothing for instants nobody could act on."""
    with engine_api(tmp_path / "a.db") as api:
        move_clock(api, T0 + timedelta(days=2))
        api.data(RECORD_TICKET, urgent("T-1"))
        api.data(
            RECORD_EVENTS,
            {
                "events": [
                    {
                        "eventId": "r",
                        "ticketId": "T-1",
                        "at": "2026-03-02T14:00:00Z",
                        "message": {"by": "AGENT"},
                    },
                    {
                        "eventId": "s",
                        "ticketId": "T-1",
                        "at": "2026-03-02T23:00:00Z",
                        "status": "solved",
                    },
                ]
            },
        )
        assert api.runtime.store.alerts.list() == []


SUB = (
    "subscription { slaAlerts(filter: {metrics: [FIRST_RESPONSE]}) "
    "{ id kind ticketId metric cycleIndex cycleStartedAt percent beforeSeconds at level "
    "assignee } }"
)


def test_subscribers_get_alerts_without_a_webhook(tmp_path: Path) -> None:
    with engine_api(tmp_path / "a.db") as api:
        api.data(RECORD_TICKET, urgent("T-1", assignee="ana"))
        rt = api.runtime
        with api.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json()["type"] == "connection_ack"
            ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": SUB}})
            while rt.broadcaster.subscribers == 0:
                ws.send_json({"type": "ping"})
                assert ws.receive_json()["type"] == "pong"
            move_clock(api, T0 + timedelta(minutes=30))
            msg = ws.receive_json()
            assert msg["type"] == "next", msg
            assert msg["payload"]["data"]["slaAlerts"] == _first_response_warning()
        assert set(_statuses(api).values()) == {"published"}


def test_healthz_reports_the_scheduler(tmp_path: Path) -> None:
    with engine_api(tmp_path / "a.db") as api:
        wait_until(lambda: api.runtime.scheduler.passes > 0)
        body = api.client.get("/healthz").json()
        assert body["ok"] is True and body["scheduler"] == "running"
        api.runtime.scheduler.last_error = "OperationalError: disk I/O error"
        r = api.client.get("/healthz")
        assert r.status_code == 503 and r.json()["scheduler"].startswith("failing")
