"""Issue 11 items 7 and 10: query cost (aliases, list sizes), time and size limits of the
expensive operations, introspection behind the read role."""

from __future__ import annotations

import time
from typing import Any

from slarules.dsl.source import BuildResult
from tests.service.conftest import Api, open_api

EXPLAIN = (
    '{ explain(ticket: {id: "X", createdAt: "2026-03-02T12:00:00Z", fields: {}}) { decidedBy } }'
)


def _code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


def test_aliased_explains_are_over_the_cost_limit(api: Api) -> None:
    inner = EXPLAIN[1:-1]
    fifteen = "{ " + " ".join(f"e{i}: {inner}" for i in range(15)) + " }"
    body = api.post(fifteen)
    assert _code(body) == "BAD_USER_INPUT" and "costs" in body["errors"][0]["message"]
    assert body.get("data") is None  # nothing ran
    assert "errors" not in api.post("{ " + " ".join(f"e{i}: {inner}" for i in range(3)) + " }")


def test_list_sizes_and_fragments_count(api: Api) -> None:
    big = "{ tickets(first: 500) { edges { node { cycles { metric } level { name } } } } }"
    frag = (
        "{ ...F ...F } fragment F on Query "
        "{ a: tickets(first: 1000) { edges { node { cycles { metric } level { name } } } } "
        "b: tickets(first: 1000) { edges { node { cycles { metric } level { name } } } } }"
    )
    via_var = (
        "query($n: Int) { "
        + " ".join(
            f"t{i}: tickets(first: $n) {{ edges {{ node {{ cycles {{ metric }} }} }} }}"
            for i in range(6)
        )
        + " }"
    )
    assert "errors" not in api.post(big)  # one big page is fine
    aliased = "{ " + " ".join(f"t{i}: {big[2:-2]}" for i in range(8)) + " }"
    assert _code(api.post(aliased)) == "BAD_USER_INPUT"  # eight of them are not
    assert _code(api.post(frag)) == "BAD_USER_INPUT"
    assert _code(api.post(via_var, {"n": 1000})) == "BAD_USER_INPUT"
    assert "errors" not in api.post(via_var, {"n": 10})


def test_check_rules_over_the_size_limit(sqlite_db: Any) -> None:
    with open_api(sqlite_db, max_rules_bytes=2048) as api:
        body = api.post("query($s: String!) { checkRules(source: $s) { code } }", {"s": "#" * 3000})
        assert (
            _code(body) == "BAD_USER_INPUT"
            and "SLA_MAX_RULES_BYTES" in body["errors"][0]["message"]
        )


def test_a_slow_check_rules_answers_at_the_time_limit_and_healthz_stays_up(
    sqlite_db: Any,
) -> None:
    def slow(text: str, name: str, cancel: object = None) -> BuildResult:
        time.sleep(2.0)  # polls nothing: the limiter token stays held until it ends
        return BuildResult(None, ())

    from dataclasses import replace

    from slarules.app import create_app
    from slarules.clock import FrozenClock
    from slarules.runtime import LiveRuleset
    from slarules.settings import Settings
    from tests.service.rules import T0, make_policy

    settings = replace(Settings(database=sqlite_db), operation_timeout=0.3, expensive_threads=1)
    app = create_app(
        settings, FrozenClock(T0), ruleset=LiveRuleset(make_policy(), T0, {}), build_source=slow
    )
    from starlette.testclient import TestClient

    with TestClient(app) as client:
        started = time.monotonic()
        r = client.post("/graphql", json={"query": '{ checkRules(source: "x") { code } }'})
        took = time.monotonic() - started
        assert r.status_code == 200 and r.json()["errors"][0]["extensions"]["reason"] == "timeout"
        assert took < 1.5  # answered at the limit, not after the 2 s build
        assert client.get("/healthz").status_code == 200  # the event loop was free
        # the abandoned thread still holds the only token: the next one waits, then times out
        r = client.post("/graphql", json={"query": '{ checkRules(source: "x") { code } }'})
        assert r.json()["errors"][0]["extensions"]["reason"] == "timeout"


def test_compliance_range_is_limited(api: Api) -> None:
    q = '{ compliance(from: "2020-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { metCount } }'
    assert _code(api.post(q)) == "BAD_USER_INPUT"


INTROSPECT = "{ __schema { queryType { name } } }"


def test_introspection_follows_the_read_role_when_tokens_are_set(sqlite_db: Any) -> None:
    with open_api(sqlite_db, tokens={"rtok": "read"}) as api:
        assert _code(api.post(INTROSPECT)) == "UNAUTHENTICATED"  # was: the whole schema
        assert _code(api.post('{ __type(name: "Ticket") { name } }')) == "UNAUTHENTICATED"
        frag = "{ ...F } fragment F on Query { __schema { types { name } } }"
        assert _code(api.post(frag)) == "UNAUTHENTICATED"
        assert api.data(INTROSPECT, token="rtok")["__schema"]["queryType"]["name"] == "Query"
        assert api.post("{ __typename }")["data"] == {"__typename": "Query"}
    with open_api(sqlite_db, tokens={"rtok": "read"}, open_introspection=True) as api:
        assert api.data(INTROSPECT)["__schema"]["queryType"]["name"] == "Query"
    with open_api(sqlite_db) as api:  # no tokens: everyone reads
        assert api.data(INTROSPECT)["__schema"]["queryType"]["name"] == "Query"
