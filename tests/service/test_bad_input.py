"""Issue 11 item 8: every listed bad input is BAD_USER_INPUT (GraphQL) or a 4xx (HTTP),
never a 500 nor an internal error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.service.conftest import Api
from tests.service.gql import RECORD_TICKET

EXPLAIN = (
    "query($t: TicketInput!, $now: DateTime) { explain(ticket: $t, now: $now) "
    "{ decidedBy cycles { metric state } } }"
)
T = "2026-03-02T12:00:00Z"
BAD = "BAD_USER_INPUT"


def _ticket(**kw: Any) -> dict[str, Any]:
    return {"id": "T-1", "createdAt": T, "fields": {}, **kw}


def _post(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """POST with ASCII-escaped JSON (lone surrogates travel as `\\udXXX` escapes)."""
    body = json.dumps({"query": query, "variables": variables})
    r = api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        return {"errors": [{"message": r.text[:300], "extensions": {"code": BAD}}]}
    return r.json()  # type: ignore[no-any-return]


def _bad(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    err = body["errors"][0]
    assert err["extensions"]["code"] == "BAD_USER_INPUT", err
    assert len(err["message"]) < 400, err["message"][:400]
    return err  # type: ignore[no-any-return]


LIMIT_LITERALS = [
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "0002-06-01T00:00:00Z",
    "9998-06-01T00:00:00Z",
]


@pytest.mark.parametrize("literal", LIMIT_LITERALS)
def test_datetime_near_the_limits_in_explain(api: Api, literal: str) -> None:
    _bad(api.post(EXPLAIN, {"t": _ticket(), "now": literal}))
    _bad(api.post(EXPLAIN, {"t": _ticket(createdAt=literal)}))
    inline = (
        '{ explain(ticket: {id: "X", createdAt: "' + literal + '", fields: {}}) { decidedBy } }'
    )
    _bad(api.post(inline))


@pytest.mark.parametrize("literal", LIMIT_LITERALS)
def test_instants_outside_the_supported_years_over_http(api: Api, literal: str) -> None:
    q = {"calendar": "office", "from": literal, "to": "2026-03-03T00:00:00Z"}
    for path, params in (
        ("/board/open-hours", q),
        ("/export/compliance.csv", {"from": literal, "to": "2026-03-03T00:00:00Z"}),
        ("/export/compliance.csv", {"from": "2026-03-01T00:00:00Z", "to": literal}),
        ("/export/sla-log.csv", {"started_from": literal}),
    ):
        r = api.client.get(path, params=params)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"subject": "a\ud800b"}, "bad-character"),
        ({"subject": "a\x00b"}, "bad-character"),
        ({"assignee": "\x00"}, "bad-character"),
        ({"assignee": "é" * 2000}, "too-long"),  # 4,000 bytes: over PostgreSQL's index row
        ({"department": "x" * 2001}, "too-long"),
        ({"subject": "x" * 100_001}, "too-long"),
        ({"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}, "too-deep"),
    ],
)
def test_bad_text_in_a_ticket_is_refused(api_any: Api, fields: dict[str, Any], reason: str) -> None:
    err = _bad(_post(api_any, RECORD_TICKET, {"input": _ticket(fields=fields)}))
    assert err["extensions"].get("reason", reason) == reason  # (a 400 names no reason)
    assert api_any.counts()["ticket"] == 0


@pytest.mark.parametrize("tid", ["x" * 256, "x" * 3000, "a\x00", "\udfff"])
def test_bad_ids_are_refused(api_any: Api, tid: str) -> None:
    _bad(_post(api_any, RECORD_TICKET, {"input": _ticket(id=tid)}))
    ev = {"eventId": tid, "ticketId": "T-1", "at": T, "status": "open"}
    q = "mutation($e: [EventInput!]!) { recordEvents(events: $e) { applied } }"
    _bad(_post(api_any, q, {"e": [ev]}))


def test_longest_allowed_texts_are_stored_on_every_database(api_any: Api) -> None:
    fields = {"assignee": "é" * 1000, "department": "x" * 2000, "requester": "ø" * 1000}
    got = api_any.data(RECORD_TICKET, {"input": _ticket(id="x" * 255, fields=fields)})
    assert got["recordTicket"]["id"] == "x" * 255


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_in_json_fields(api: Api, number: str) -> None:
    body = (
        '{"query": "mutation($i: TicketInput!) { recordTicket(input: $i) { id } }", '
        '"variables": {"i": {"id": "T-1", "createdAt": "'
        + T
        + '", "fields": {"n": '
        + number
        + "}}}}"
    )
    r = api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    if r.status_code == 200:
        _bad(r.json())
    else:
        assert 400 <= r.status_code < 500, r.text
    assert api.counts()["ticket"] == 0


def test_huge_cursors(api: Api) -> None:
    for q in ("tickets", "slaLog", "alerts"):
        for cursor in ("A" * 100_000, "eyJ4IjogMX0", "[[[[", "\ud800"):
            doc = "query($c: String) { " + q + "(after: $c) { pageInfo { hasNextPage } } }"
            _bad(_post(api, doc, {"c": cursor}))


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b'"a string"',
        b"42",
        b"[]",
        b"\xff\xfe\xfa",
        b'{"query": "\xff"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"query": "{ ruleset { version } }", "variables": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
        b'{"query": "{ ruleset { version } }", "variables": {"x": ' + b"9" * 5000 + b"}}",
        b'{"query": 5}',
        b'{"query": "{ ruleset { version } }", "variables": "x"}',
    ],
    ids=[
        "null",
        "string",
        "number",
        "array",
        "invalid-utf8",
        "invalid-utf8-in-string",
        "100000-deep",
        "100000-deep-variables",
        "5000-digit-int",
        "query-number",
        "variables-string",
    ],
)
def test_malformed_json_bodies_are_4xx(api: Api, body: bytes) -> None:
    r = api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500 or (r.status_code == 200 and r.json().get("errors")), (
        r.status_code,
        r.text[:300],
    )
    assert r.status_code != 500


def test_a_subscription_over_http_is_refused(api: Api) -> None:
    r = api.client.post("/graphql", json={"query": "subscription { slaAlerts { id } }"})
    assert 400 <= r.status_code < 500 or _bad(r.json()), r.text
    r = api.client.get("/graphql", params={"query": "subscription { slaAlerts { id } }"})
    assert 400 <= r.status_code < 500 or _bad(r.json()), r.text


def test_a_body_shorter_than_announced_times_out_with_408(sqlite_db: Any) -> None:
    import anyio

    from tests.service.conftest import open_api

    with open_api(sqlite_db, body_timeout=0.3) as api:
        sent: list[dict[str, Any]] = []
        chunks = [{"type": "http.request", "body": b'{"query": "{ rules', "more_body": True}]

        async def receive() -> dict[str, Any]:
            if chunks:
                return chunks.pop()
            await anyio.sleep(60)  # the rest of the announced 1,000 bytes never comes
            return {"type": "http.disconnect"}

        async def send(msg: dict[str, Any]) -> None:
            sent.append(msg)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "app": api.app,
        }

        async def go() -> None:
            with anyio.fail_after(5):
                await api.app(scope, receive, send)

        anyio.run(go)
        assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 408
