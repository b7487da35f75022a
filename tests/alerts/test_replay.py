"""Issue 11 item 3: `slaAlerts(after:)` replays stored alerts then goes live (no gap, no
duplicate), and the `alerts` history query pages the same stored alerts, newest first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from slarules.alerts import codec as alert_codec
from tests.alerts.conftest import T0, engine_api, move_clock, urgent
from tests.alerts.receiver import wait_until
from tests.service.conftest import Api
from tests.service.gql import RECORD_TICKET

FIELDS = "id kind ticketId metric percent at level assignee"
SUB = (
    "subscription($a: String, $f: AlertFilter) { slaAlerts(after: $a, filter: $f) { "
    + FIELDS
    + " } }"
)
HISTORY = (
    "query($f: AlertHistoryFilter, $n: Int, $c: String) { alerts(filter: $f, first: $n, "
    "after: $c) { edges { cursor node { " + FIELDS + " } } pageInfo { hasNextPage endCursor } } }"
)


def _seed(api: Api) -> list[dict[str, Any]]:
    """Three urgent tickets; at 12:30 each raises its 50% first-response warning."""
    for i, who in enumerate(("ana", "bo", "cy")):
        api.data(RECORD_TICKET, urgent(f"T-{i}", assignee=who))
    move_clock(api, T0 + timedelta(minutes=30))
    wait_until(lambda: len(api.runtime.store.alerts.list()) == 3)
    return _raised_order(api)


def _raised_order(api: Api) -> list[dict[str, Any]]:
    rows = api.runtime.store.alerts.list()
    return sorted(rows, key=lambda r: r["id"])  # one pass, one `created_at`: then by id


def _subscribe(ws: Any, after: str | None, f: dict[str, Any] | None = None) -> None:
    ws.send_json({"type": "connection_init"})
    assert ws.receive_json()["type"] == "connection_ack"
    variables = {"a": after, "f": f}
    ws.send_json(
        {"type": "subscribe", "id": "1", "payload": {"query": SUB, "variables": variables}}
    )


def _next(ws: Any) -> dict[str, Any]:
    msg = ws.receive_json()
    assert msg["type"] == "next", msg
    return msg["payload"]["data"]["slaAlerts"]  # type: ignore[no-any-return]


def _ws(api: Api) -> Any:
    return api.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])


def test_replay_after_an_alert_id_then_live_without_gap_or_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine_api(tmp_path / "a.db") as api:
        stored = _seed(api)
        outbox = api.runtime.store.alerts
        real = outbox.raised_since
        calls: list[int] = []

        def read_then_raise_more(*args: Any) -> Any:
            rows = real(*args)
            if not calls:  # alerts raised while the backlog is being sent: must come live
                calls.append(1)
                move_clock(api, T0 + timedelta(minutes=48))  # 80% warnings (and before-15m)
                wait_until(lambda: len(outbox.list()) > 3)
            return rows

        monkeypatch.setattr(outbox, "raised_since", read_then_raise_more)
        with _ws(api) as ws:
            _subscribe(ws, stored[0]["id"])
            replayed = [_next(ws), _next(ws)]
            assert [a["id"] for a in replayed] == [r["id"] for r in stored[1:]]
            wait_until(lambda: len(outbox.list()) == 9)  # 3 tickets x (50%, 15m before, 80%)
            later = {r["id"] for r in outbox.list()} - {r["id"] for r in stored}
            got = [_next(ws) for _ in later]
            assert {a["id"] for a in got} == later  # no gap
            move_clock(api, T0 + timedelta(minutes=61))  # breaches: live, each once
            breaches = [_next(ws) for _ in range(3)]
            assert {a["kind"] for a in breaches} == {"BREACH"}
            ids = [a["id"] for a in [*replayed, *got, *breaches]]
            assert len(ids) == len(set(ids))  # no duplicate


def test_an_alert_broadcast_late_is_not_sent_again_after_the_replay(tmp_path: Path) -> None:
    """An alert raised before `after` (or at it) whose broadcast reaches the live queue only
    once the subscription has registered it (a busy event loop runs the publish callback
    late) is not live: the client asked for the alerts after it. Regression: the first
    alert was sent again, where the next new one belonged."""
    with engine_api(tmp_path / "a.db") as api:
        stored = _seed(api)
        outbox = api.runtime.store.alerts
        with _ws(api) as ws:
            _subscribe(ws, stored[1]["id"])
            assert _next(ws)["id"] == stored[2]["id"]
            for r in stored:  # the three broadcasts arrive late, after the replay
                payload = outbox.payloads([r["id"]])[r["id"]]
                api.runtime.publish(alert_codec.decode(payload))
            move_clock(api, T0 + timedelta(minutes=48))  # new warnings: live
            wait_until(lambda: len(outbox.list()) == 9)
            later = {r["id"] for r in outbox.list()} - {r["id"] for r in stored}
            got = [_next(ws)["id"] for _ in later]
            assert set(got) == later


def test_replay_after_an_instant_and_with_a_filter(tmp_path: Path) -> None:
    with engine_api(tmp_path / "a.db") as api:
        stored = _seed(api)
        with _ws(api) as ws:
            _subscribe(ws, "2026-03-02T12:00:00Z")
            got = [_next(ws) for _ in stored]
            assert [a["id"] for a in got] == [r["id"] for r in stored]
            assert got[0]["kind"] == "WARNING" and got[0]["percent"] == 50.0
        with _ws(api) as ws:
            _subscribe(ws, "2026-03-02T12:00:00Z", {"assignee": "bo"})
            (only,) = [_next(ws) for _ in range(1)]
            assert only["assignee"] == "bo" and only["ticketId"] == "T-1"
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "pong"  # nothing else was replayed


@pytest.mark.parametrize(
    "after", ["no-such-alert", "2026-13-02T12:00:00Z", "x" * 10_000, "2026-03-02T12:00:00"]
)
def test_a_bad_after_is_bad_user_input(tmp_path: Path, after: str) -> None:
    with engine_api(tmp_path / "a.db") as api, _ws(api) as ws:
        _subscribe(ws, after)
        msg = ws.receive_json()
        assert msg["type"] == "next" and msg["payload"]["errors"], msg
        err = msg["payload"]["errors"][0]
        assert err["extensions"]["code"] == "BAD_USER_INPUT"
        assert len(err["message"]) < 300


def test_alerts_history_pages_newest_first_with_filters(tmp_path: Path) -> None:
    with engine_api(tmp_path / "a.db") as api:
        _seed(api)
        move_clock(api, T0 + timedelta(minutes=61))
        wait_until(lambda: len(api.runtime.store.alerts.list()) == 12)
        seen, cursor = [], None
        while True:
            page = api.data(HISTORY, {"n": 5, "c": cursor})["alerts"]
            seen += [e["node"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            cursor = page["pageInfo"]["endCursor"]
        assert len(seen) == 12 and len({a["id"] for a in seen}) == 12
        # newest raised first: the 50% warnings (raised at 12:30) come last
        assert {a["percent"] for a in seen[-3:]} == {50.0}
        assert 50.0 not in {a["percent"] for a in seen[:9]}
        one = api.data(HISTORY, {"f": {"ticketId": "T-2", "kinds": ["BREACH"]}})["alerts"]
        assert [(e["node"]["ticketId"], e["node"]["kind"]) for e in one["edges"]] == [
            ("T-2", "BREACH")
        ]
        by_level = api.data(HISTORY, {"f": {"level": "urgent", "assignee": "ana"}, "n": 50})
        assert {e["node"]["ticketId"] for e in by_level["alerts"]["edges"]} == {"T-0"}
        window = {"atFrom": "2026-03-02T12:30:00Z", "atTo": "2026-03-02T12:31:00Z"}
        early = api.data(HISTORY, {"f": window, "n": 50})["alerts"]["edges"]
        assert len(early) == 3 and {e["node"]["percent"] for e in early} == {50.0}
        err = api.error(HISTORY, {"c": "A" * 5000})
        assert err["extensions"]["code"] == "BAD_USER_INPUT" and len(err["message"]) < 300
