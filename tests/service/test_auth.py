"""Access control: every operation under each role, forged/missing tokens, WebSocket auth."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.websockets import WebSocketDisconnect

from slarules.dsl.source import BuildResult
from slarules.engine.alerts import Alert
from slarules.settings import DatabaseConfig
from tests.service.conftest import Api, open_api
from tests.service.gql import RECORD_TICKET, ticket
from tests.service.rules import T0

TOKENS = {"rtok": "read", "wtok": "write", "atok": "admin"}

OPERATIONS = {  # operation → (document, role needed)
    "ticket": ('{ ticket(id: "T-1") { id } }', "read"),
    "tickets": ("{ tickets { totalCount } }", "read"),
    "slaLog": ("{ slaLog { totalCount } }", "read"),
    "compliance": (
        '{ compliance(from: "2026-03-01T00:00:00Z", to: "2026-03-03T00:00:00Z") { metCount } }',
        "read",
    ),
    "ruleset": ("{ ruleset { version } }", "read"),
    "explain": (
        '{ explain(ticket: {id: "X", createdAt: "2026-03-02T12:00:00Z", fields: {}}) '
        "{ decidedBy } }",
        "read",
    ),
    "checkRules": ('{ checkRules(source: "x") { code } }', "read"),
    "recordTicket": (
        'mutation { recordTicket(input: {id: "T-9", createdAt: '
        '"2026-03-02T12:00:00Z", fields: {}}) { id } }',
        "write",
    ),
    "recordEvents": (
        'mutation { recordEvents(events: [{eventId: "e", ticketId: "T-1", '
        'at: "2026-03-02T12:00:00Z", status: "open"}]) { applied } }',
        "write",
    ),
    "reloadRules": ("mutation { reloadRules { ok } }", "admin"),
}
RANK = ["read", "write", "admin"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    db = DatabaseConfig("sqlite", filename=str(tmp_path_factory.mktemp("auth") / "a.db"))
    with open_api(db, tokens=TOKENS) as api:
        api.data(RECORD_TICKET, ticket("T-1"), token="wtok")
        api.runtime.build_source = lambda text, name: BuildResult(None, ())
        api.runtime.reload = lambda: (True, [])
        yield api


@pytest.mark.parametrize("op", sorted(OPERATIONS))
@pytest.mark.parametrize("token", [None, "forged", "rtok", "wtok", "atok"])
def test_every_operation_under_every_role(secured: Api, op: str, token: str | None) -> None:
    doc, needed = OPERATIONS[op]
    before = secured.counts()
    body = secured.post(doc, token=token)
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    role = TOKENS.get(token or "")
    if role is None:
        assert codes == ["UNAUTHENTICATED"], body
        assert secured.counts() == before
    elif RANK.index(role) < RANK.index(needed):
        assert codes == ["FORBIDDEN"], body
        assert "forbidden" in body["errors"][0]["message"]
        assert secured.counts() == before
    else:
        assert "UNAUTHENTICATED" not in codes and "FORBIDDEN" not in codes, body


def test_bearer_scheme_is_required(secured: Api) -> None:
    r = secured.client.post(
        "/graphql", json={"query": "{ ruleset { version } }"}, headers={"Authorization": "rtok"}
    )
    assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("token", "status"), [(None, 401), ("forged", 401), ("rtok", 200), ("atok", 200)]
)
def test_exports_and_metrics_need_read(secured: Api, token: str | None, status: int) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for path in (
        "/metrics",
        "/export/sla-log.csv",
        "/export/compliance.csv?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z",
    ):
        assert secured.client.get(path, headers=headers).status_code == status


def test_healthz_needs_no_token(secured: Api) -> None:
    assert secured.client.get("/healthz").status_code == 200


SUB = "subscription { slaAlerts(filter: {kinds: [BREACH]}) { id kind ticketId metric at level } }"


def _alert(kind: str, n: int) -> Alert:
    return Alert(
        id=f"a{n}",
        kind=kind,  # type: ignore[arg-type]
        ticket_id="T-1",
        metric="resolution",
        cycle_index=1,
        cycle_started_at=T0,
        at=T0,
        level="urgent",
    )


def test_subscription_with_token_in_connection_init(secured: Api) -> None:
    rt = secured.runtime
    with secured.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": "Bearer rtok"}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": SUB}})
        while rt.broadcaster.subscribers == 0:  # wait until the subscription is registered
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "pong"
        portal = secured.client.portal
        assert portal is not None
        portal.call(rt.broadcaster.publish, _alert("warning", 1))  # filtered out
        portal.call(rt.broadcaster.publish, _alert("breach", 2))
        msg = ws.receive_json()
        assert msg["type"] == "next"
        assert msg["payload"]["data"]["slaAlerts"] == {
            "id": "a2",
            "kind": "BREACH",
            "ticketId": "T-1",
            "metric": "RESOLUTION",
            "at": "2026-03-02T12:00:00Z",
            "level": "urgent",
        }


@pytest.mark.parametrize("payload", [None, {"authorization": "Bearer forged"}])
def test_subscription_without_valid_token_is_refused(secured: Api, payload: object) -> None:
    with (
        pytest.raises(WebSocketDisconnect),
        secured.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", **({"payload": payload} if payload else {})})
        ws.receive_json()


def test_without_tokens_everyone_is_admin(sqlite_db: DatabaseConfig) -> None:
    with open_api(sqlite_db) as api:
        assert api.data("{ ruleset { version } }")["ruleset"]["version"] == "rulesv1"
        assert api.client.get("/export/sla-log.csv").status_code == 200
