"""A browser front end on another origin (CORS, `SLA_CORS_ORIGINS`) and what `GET /graphql`
answers: a page saying how to query, or GraphiQL from files shipped in the package."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from slarules.errors import SettingsError
from slarules.graphql.view import GRAPHIQL_ASSETS
from slarules.settings import DatabaseConfig, load_settings, parse_origins
from tests.service.conftest import Api, open_api

UI = "https://ui.example.com"
PRE = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
QUERY = {"query": "{ ruleset { version } }"}


@pytest.fixture
def cors(sqlite_db: DatabaseConfig) -> Iterator[Api]:
    origins = parse_origins(f"{UI}/, HTTP://LocalHost:5173,")
    with open_api(sqlite_db, cors_origins=origins) as a:
        yield a


# -- settings -----------------------------------------------------------------------------


def test_origins_are_normalised_as_browsers_send_them() -> None:
    assert parse_origins("https://UI.example.com/, http://localhost:5173, ,") == (
        "https://ui.example.com",
        "http://localhost:5173",
    )
    assert parse_origins("https://a.example:443, http://a.example:80") == (
        "https://a.example",
        "http://a.example",
    )
    assert parse_origins("*") == ("*",)
    assert load_settings({}).cors_origins == ()  # off by default
    env = {"SLA_CORS_ORIGINS": "https://ui.example.com"}
    assert load_settings(env).cors_origins == ("https://ui.example.com",)


@pytest.mark.parametrize(
    "bad", ["ui.example.com", "https://ui.example.com/app", "ftp://x.example", "*, https://a.b"]
)
def test_a_bad_origin_stops_start_up_with_one_line(bad: str) -> None:
    with pytest.raises(SettingsError) as e:
        load_settings({"SLA_CORS_ORIGINS": bad})
    assert "SLA_CORS_ORIGINS" in str(e.value) and "\n" not in str(e.value)


# -- CORS ---------------------------------------------------------------------------------


def test_cors_is_off_by_default(api: Api) -> None:
    r = api.client.options("/graphql", headers={"Origin": UI, **PRE})
    assert r.status_code == 405  # no preflight answered, no CORS headers
    assert "access-control-allow-origin" not in r.headers
    r = api.client.post("/graphql", json=QUERY, headers={"Origin": UI})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_a_preflight_from_a_listed_origin_is_answered(cors: Api) -> None:
    r = cors.client.options(
        "/graphql",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == UI
    assert "POST" in r.headers["access-control-allow-methods"]
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert r.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in r.headers  # tokens, not cookies

    local = cors.client.options("/graphql", headers={"Origin": "http://localhost:5173", **PRE})
    assert local.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_a_listed_origin_reads_the_answer(cors: Api) -> None:
    r = cors.client.post("/graphql", json=QUERY, headers={"Origin": UI})
    assert r.status_code == 200 and r.json()["data"]["ruleset"]["version"]
    assert r.headers["access-control-allow-origin"] == UI
    r = cors.client.get("/export/sla-log.csv", headers={"Origin": UI})
    assert r.headers["access-control-allow-origin"] == UI
    assert "content-disposition" in r.headers["access-control-expose-headers"].lower()


def test_other_origins_are_refused(cors: Api) -> None:
    bad = cors.client.options("/graphql", headers={"Origin": "https://evil.example", **PRE})
    assert (bad.status_code, bad.text) == (400, "Disallowed CORS origin")
    assert "access-control-allow-origin" not in bad.headers
    r = cors.client.post("/graphql", json=QUERY, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers  # the browser will not let it read
    odd = cors.client.options(
        "/graphql", headers={"Origin": UI, **PRE, **{"Access-Control-Request-Headers": "x-secret"}}
    )
    assert (odd.status_code, odd.text) == (400, "Disallowed CORS headers")


def _ws_ack(client: TestClient, origin: str | None) -> str:
    headers = {"origin": origin} if origin else {}
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers=headers
    ) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        return str(ws.receive_json()["type"])


def test_websocket_origin_check(cors: Api, api: Api) -> None:
    assert _ws_ack(cors.client, UI) == "connection_ack"
    assert _ws_ack(cors.client, None) == "connection_ack"  # not a browser
    assert _ws_ack(cors.client, "http://testserver") == "connection_ack"  # same origin
    with pytest.raises(WebSocketDisconnect) as e:
        _ws_ack(cors.client, "https://evil.example")
    assert e.value.code == 1008
    with pytest.raises(WebSocketDisconnect):  # CORS off: only the same origin
        _ws_ack(api.client, UI)
    assert _ws_ack(api.client, "http://testserver") == "connection_ack"


# -- GET /graphql ---------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["text/html", "*/*"])
def test_get_graphql_says_how_to_query_when_graphiql_is_off(api: Api, accept: str) -> None:
    r = api.client.get("/graphql", headers={"accept": accept})
    assert r.status_code == 200  # was a bare 404 at the URL the server prints
    assert r.headers["content-type"].startswith("text/html")
    assert "POST http://testserver/graphql" in r.text
    assert "curl" in r.text and "SLA_GRAPHIQL=true" in r.text
    assert "ws://testserver/graphql" in r.text
    assert "Authorization" not in r.text  # no tokens configured
    assert not re.search(r"<script", r.text)
    assert "default-src 'none'" in r.headers["content-security-policy"]
    # queries over GET still run
    got = api.client.get("/graphql", params={"query": "{ __typename }"})
    assert got.json() == {"data": {"__typename": "Query"}}
    # no asset route while GraphiQL is off
    assert api.client.get("/graphiql/graphiql.min.js").status_code == 404


def test_the_help_page_mentions_the_token_when_auth_is_on(sqlite_db: DatabaseConfig) -> None:
    with open_api(sqlite_db, tokens={"t": "read"}) as a:
        r = a.client.get("/graphql", headers={"accept": "text/html"})
        assert r.status_code == 200 and "Authorization: Bearer TOKEN" in r.text


def test_graphiql_is_served_from_the_package(sqlite_db: DatabaseConfig) -> None:
    with open_api(sqlite_db, graphiql=True) as on:
        r = on.client.get("/graphql", headers={"accept": "text/html"})
        assert r.status_code == 200 and "GraphiQL" in r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]
        refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert refs and all(u.startswith("/graphiql/") or u == "data:," for u in refs), refs
        assert not re.search(r"https?://", r.text)  # no CDN
        for u in refs:
            if u.startswith("/graphiql/"):
                got = on.client.get(u)
                assert got.status_code == 200, u
                assert got.headers["content-type"] == GRAPHIQL_ASSETS[u.rsplit("/", 1)[1]]
                assert len(got.content) > 200, u
        for name in ("VENDORED.md", "LICENSE.graphiql", "../view.py", "nope.js"):
            assert on.client.get(f"/graphiql/{name}").status_code == 404, name
