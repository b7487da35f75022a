"""Plain HTTP: malformed and oversized bodies, limits, /healthz, exports, GraphiQL, the contract."""

from __future__ import annotations

import csv
import io
import time

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    build_schema,
    print_ast,
)
from graphql.utilities import ast_from_value

from slarules.graphql.schema import make_schema
from slarules.settings import DatabaseConfig, Settings
from tests.service.conftest import Api, open_api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, status, ticket
from tests.service.rules import T0


def test_schema_keeps_every_name_type_and_default_of_the_contract() -> None:
    """service.md's SDL (copied to contract.graphql) must be a subset of ours."""
    from pathlib import Path

    spec = build_schema((Path(__file__).parent / "contract.graphql").read_text())
    ours = make_schema(Settings())._schema
    problems = []
    for name, t in spec.type_map.items():
        if name.startswith("__"):
            continue
        o = ours.type_map.get(name)
        if o is None:
            problems.append(f"type {name}")
            continue
        if isinstance(t, GraphQLEnumType) and set(t.values) - set(o.values):  # type: ignore[attr-defined]
            problems.append(f"enum {name}")
        if not isinstance(t, GraphQLObjectType | GraphQLInputObjectType):
            continue
        for fname, f in t.fields.items():
            of = o.fields.get(fname)  # type: ignore[attr-defined]
            if of is None or str(of.type) != str(f.type):
                problems.append(f"{name}.{fname}")
                continue
            pairs = [(f, of, f"{name}.{fname}")] if isinstance(t, GraphQLInputObjectType) else []
            for aname, a in getattr(f, "args", {}).items():
                oa = of.args.get(aname)
                if oa is None or str(oa.type) != str(a.type):
                    problems.append(f"{name}.{fname}({aname})")
                    continue
                pairs.append((a, oa, f"{name}.{fname}({aname})"))
            for a, oa, where in pairs:
                want = a.ast_node.default_value
                if want is not None:
                    got = ast_from_value(oa.default_value, oa.type)
                    if got is None or print_ast(got) != print_ast(want):
                        problems.append(f"default of {where}")
    assert problems == []


def test_healthz(api: Api) -> None:
    for _ in range(100):  # the start-up check for stale tickets runs in the background
        r = api.client.get("/healthz")
        if r.json().get("ruleset_current"):
            break
        time.sleep(0.02)
    assert r.status_code == 200
    body = r.json()
    assert body["scheduler"] in ("starting", "running")  # its first pass may still run
    del body["scheduler"]
    assert body == {
        "ok": True,
        "database": "reachable",
        "ruleset": "rulesv1",
        "remeasuring": 0,
        "ruleset_current": True,
    }


def test_answers_are_json_with_any_value(api: Api) -> None:
    """Answers are encoded by orjson: non-ASCII text as UTF-8 text; what orjson refuses
    (an integer beyond 64 bits, a lone surrogate) goes through `json.dumps`."""
    import json

    from slarules.graphql.view import SlaGraphQL
    from tests.service.gql import RECORD_TICKET, ticket

    api.data(RECORD_TICKET, ticket("U1", subject="Straße – 東京"))
    r = api.client.post("/graphql", json={"query": '{ ticket(id: "U1") { fields } }'})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert "Straße – 東京".encode() in r.content  # UTF-8, not `\u` escapes
    assert r.json()["data"]["ticket"]["fields"]["subject"] == "Straße – 東京"
    encode = SlaGraphQL.encode_json  # its text, also a WebSocket's text frame
    for value in ({"n": 2**70}, {"s": "a\ud800b"}, {"ok": [1, "é", None, 2.5]}):
        text = encode(None, value)  # type: ignore[arg-type]
        assert isinstance(text, str) and json.loads(text) == value


def test_malformed_body_is_400_and_changes_nothing(api: Api) -> None:
    r = api.client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    r = api.client.post("/graphql", json={"query": "mutation { recordTicket("})
    assert r.status_code == 200 and r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert api.counts()["ticket"] == 0


def test_oversized_body_is_413(sqlite_db: DatabaseConfig) -> None:
    with open_api(sqlite_db, max_body_size=10_000) as api:
        big = {"query": RECORD_TICKET, "variables": ticket("T-1", subject="x" * 20_000)}
        r = api.client.post("/graphql", json=big)
        assert r.status_code == 413
        assert api.counts()["ticket"] == 0


def test_too_deep_too_long_and_too_many_aliases(api: Api) -> None:
    too_deep = "{ tickets { edges { node { cycles { timeline { " + "__typename " + "} } } } } }"
    assert "errors" not in api.post(too_deep)  # depth 6 is fine
    with open_api(api.runtime.settings.database, max_depth=3) as small:
        err = small.error(too_deep)
        assert "depth" in err["message"] and err["extensions"]["code"] == "BAD_USER_INPUT"
        small.data(
            RECORD_TICKET.replace(
                "cycles { metric state dueAt elapsedSeconds remainingSeconds rulesetVersion }", ""
            ),
            ticket("T-1"),
        )
        before = small.counts()
        deep_write = (
            'mutation { recordEvents(events: [{eventId: "e", ticketId: "T-1", '
            'at: "2026-03-02T12:00:00Z", status: "open"}]) { tickets { cycles { timeline '
            "{ at } } } } }"
        )
        assert "depth" in small.error(deep_write)["message"]
        assert small.counts() == before  # rejected before anything ran
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(20)) + " }"
    err = api.error(aliases)
    assert "aliases" in err["message"]
    tokens = "{ " + " ".join("__typename" for _ in range(5000)) + " }"
    err = api.error(tokens)
    assert "tokens" in err["message"]


def test_graphiql_is_off_unless_enabled(api: Api, sqlite_db: DatabaseConfig) -> None:
    off = api.client.get("/graphql", headers={"accept": "text/html"})
    assert off.status_code == 200 and "graphiql.min.js" not in off.text  # a help page
    with open_api(sqlite_db, graphiql=True) as on:
        r = on.client.get("/graphql", headers={"accept": "text/html"})
        assert r.status_code == 200 and "graphiql.min.js" in r.text


def test_internal_errors_are_masked(api: Api) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("secret internals")

    api.runtime.service.views = boom
    body = api.post('{ ticket(id: "x") { id } }')
    assert body["errors"][0]["message"] == "internal error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in str(body)


def _seed(api: Api) -> None:
    api.data(RECORD_TICKET, ticket("T-1", tags=["urgent"], department="ops", requester="r@x"))
    api.data(RECORD_TICKET, ticket("T-2", department="sales"))
    api.clock.advance(hours=2)
    api.data(RECORD_EVENTS, {"events": [status("s", "T-2", "2026-03-02T12:30:00Z", "solved")]})


def test_export_sla_log_csv(api: Api) -> None:
    _seed(api)
    r = api.client.get("/export/sla-log.csv?order_by=ticket_id")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == [
        "ticket_id",
        "requester",
        "department",
        "assignee",
        "level",
        "metric",
        "index",
        "started_at",
        "due_at",
        "stopped_at",
        "state",
        "target",
        "elapsed",
        "remaining",
        "ruleset_version",
    ]
    assert [(x["ticket_id"], x["state"], x["elapsed"], x["remaining"]) for x in rows] == [
        ("T-1", "breached", "7200", "-3600"),
        ("T-2", "met", "1800", "27000"),
    ]
    assert rows[0]["requester"] == "r@x" and rows[0]["started_at"] == "2026-03-02T12:00:00Z"
    only = api.client.get("/export/sla-log.csv?department=sales&state=met")
    assert [x["ticket_id"] for x in csv.DictReader(io.StringIO(only.text))] == ["T-2"]
    bad = api.client.get("/export/sla-log.csv?started_from=2026-03-02T00:00:00")
    assert bad.status_code == 400 and "naive" in bad.json()["error"]
    bad = api.client.get("/export/sla-log.csv?order_by=nope")
    assert bad.status_code == 400


def test_export_sla_log_streams_many_chunks(api: Api) -> None:
    rt = api.runtime
    for i in range(1203):  # straight through the store: faster than GraphQL for setup
        rt.service.record_ticket(
            rt.ruleset.policy, {"id": f"T{i:05}", "created_at": T0, "fields": {"status": "new"}}, T0
        )
    r = api.client.get("/export/sla-log.csv?order_by=ticket_id")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [x["ticket_id"] for x in rows] == [f"T{i:05}" for i in range(1203)]


def test_export_compliance_csv(api: Api) -> None:
    _seed(api)
    r = api.client.get(
        "/export/compliance.csv?from=2026-03-02T00:00:00Z"
        "&to=2026-03-03T00:00:00Z&group_by=level,metric"
    )
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [
        (x["level"], x["metric"], x["met_count"], x["breached_count"], x["service_level"])
        for x in rows
    ] == [("standard", "resolution", "1", "0", "100"), ("urgent", "resolution", "0", "1", "0")]
    assert api.client.get("/export/compliance.csv?from=2026-03-02T00:00:00Z").status_code == 400
    bad = api.client.get(
        "/export/compliance.csv?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&group_by=planet"
    )
    assert bad.status_code == 400 and "planet" in bad.json()["error"]
