"""GraphQL inputs through the real schema and HTTP view (issue 11): whatever a client sends,
the answer is a 4xx or a GraphQL error with a public code, never a 500 nor an
INTERNAL_SERVER_ERROR.

The default run is sized for CI (a few seconds per target); `pytest -m fuzz tests/fuzz`
runs each target with many more examples (see the README)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.settings import parse_database_url
from tests.service.conftest import Api, open_api

QUICK = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LONG = settings(
    max_examples=int(os.environ.get("SLA_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PUBLIC = {
    "BAD_USER_INPUT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "EVENT_CONFLICT",
    "TICKET_EXISTS",
    "INVALID_RULES",
}


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    db = parse_database_url(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'f.db'}")
    with open_api(db, operation_timeout=5.0) as api:
        yield api


# -- strategies -----------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=20),
    st.sampled_from(["\x00", "\ud800", "a\udfffb", "", " ", "x" * 300, "é" * 1500, "x" * 3000]),
)
offsets = st.integers(-24 * 60 + 1, 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat()),
    st.builds(
        lambda d, tz: d.replace(tzinfo=tz).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        offsets,
    ),
    st.sampled_from(
        [
            "9999-12-31T23:59:59-05:00",
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-03-02T24:00:00Z",
            "2026-03-02T12:00:00+25:00",
            "2026-03-02T12:00:00",
        ]
    ),
    texts,
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**30, max_value=10**60),
        st.floats(allow_nan=True, allow_infinity=True),
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["status", "priority", "tags", "assignee", "department", "requester", "source", "subject"]
)
fields = st.dictionaries(st.one_of(field_names, texts), json_values, max_size=6)
ids = st.one_of(st.text(max_size=12), texts, st.integers().map(str))


def _post(api: Api, query: str, variables: dict[str, Any]) -> None:
    """Send as a client would (NaN and lone surrogates as JSON escapes) and check the answer."""
    body = json.dumps({"query": query, "variables": variables}, allow_nan=True)
    r = api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    _check(r, body)


def _check(r: Any, sent: str | bytes) -> None:
    shown = sent[:300]
    assert r.status_code < 500, (r.status_code, r.text[:300], shown)
    if r.status_code == 200:
        payload = r.json()
        for e in payload.get("errors") or ():
            code = (e.get("extensions") or {}).get("code")
            assert code in PUBLIC, (e, shown)


# -- targets --------------------------------------------------------------------------

RECORD = "mutation($i: TicketInput!) { recordTicket(input: $i) { id level { name } } }"
EVENTS = "mutation($e: [EventInput!]!) { recordEvents(events: $e) { applied duplicates } }"
EXPLAIN = (
    "query($t: TicketInput!, $e: [ExplainEventInput!], $now: DateTime) "
    "{ explain(ticket: $t, events: $e, now: $now) { decidedBy cycles { metric state } } }"
)
LISTS = (
    "query($f: TicketFilter, $l: SlaLogFilter, $a: AlertHistoryFilter, $n: Int, $c: String) {"
    " tickets(filter: $f, first: $n, after: $c) { totalCount }"
    " slaLog(filter: $l, first: $n, after: $c) { totalCount }"
    " alerts(filter: $a, first: $n, after: $c) { pageInfo { hasNextPage } } }"
)

events = st.fixed_dictionaries(
    {"eventId": ids, "ticketId": st.sampled_from(["T-1", "T-2"]) | ids, "at": instants},
    optional={
        "status": texts,
        "message": st.fixed_dictionaries(
            {"by": st.sampled_from(["CUSTOMER", "AGENT"])},
            optional={"text": texts, "public": st.booleans(), "channel": texts},
        ),
        "update": st.fixed_dictionaries({}, optional={"set": fields, "unset": st.lists(texts)}),
    },
)
tickets_in = st.fixed_dictionaries({"id": ids, "createdAt": instants, "fields": fields})


def _record(api: Api, ticket: dict[str, Any], evs: list[dict[str, Any]]) -> None:
    _post(api, RECORD, {"i": ticket})
    _post(api, EVENTS, {"e": evs})


def _explain(api: Api, ticket: dict[str, Any], evs: list[dict[str, Any]], now: str) -> None:
    plain = [{k: v for k, v in e.items() if k not in ("eventId", "ticketId")} for e in evs]
    _post(api, EXPLAIN, {"t": ticket, "e": plain, "now": now})


filters = st.fixed_dictionaries(
    {},
    optional={
        "assignee": texts,
        "department": texts,
        "level": texts,
        "dueBefore": instants,
        "createdFrom": instants,
    },
)
log_filters = st.fixed_dictionaries(
    {}, optional={"assignee": texts, "startedFrom": instants, "orderBy": texts}
)
alert_filters = st.fixed_dictionaries(
    {}, optional={"ticketId": ids, "assignee": texts, "atFrom": instants, "atTo": instants}
)
firsts = st.one_of(st.none(), st.integers(-5, 600), st.integers())
cursors = st.one_of(st.none(), texts, st.binary(max_size=80).map(lambda b: b.hex()))


def _lists(api: Api, f: Any, lf: Any, af: Any, n: Any, c: Any) -> None:
    _post(api, LISTS, {"f": f, "l": lf, "a": af, "n": n, "c": c})


bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"null",
            b"1",
            b'"x"',
            b"[]",
            b"[{}]",
            b"{}",
            b'{"query": null}',
            b"\xff",
            b"[" * 5000,
            b'{"query": "{ ruleset { version } }", "variables": {"x": ' + b"9" * 5000 + b"}}",
        ]
    ),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.text(max_size=200).map(lambda t: json.dumps({"query": t}).encode()),
)


def _body(api: Api, body: bytes) -> None:
    r = api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    _check(r, body)


# -- the CI run -----------------------------------------------------------------------


@QUICK
@given(ticket=tickets_in, evs=st.lists(events, max_size=3))
def test_record_inputs(fuzz_api: Api, ticket: dict[str, Any], evs: list[dict[str, Any]]) -> None:
    _record(fuzz_api, ticket, evs)


@QUICK
@given(ticket=tickets_in, evs=st.lists(events, max_size=3), now=instants)
def test_explain_inputs(
    fuzz_api: Api, ticket: dict[str, Any], evs: list[dict[str, Any]], now: str
) -> None:
    _explain(fuzz_api, ticket, evs, now)


@QUICK
@given(f=filters, lf=log_filters, af=alert_filters, n=firsts, c=cursors)
def test_list_inputs(fuzz_api: Api, f: Any, lf: Any, af: Any, n: Any, c: Any) -> None:
    _lists(fuzz_api, f, lf, af, n, c)


@QUICK
@given(body=bodies)
def test_raw_bodies(fuzz_api: Api, body: bytes) -> None:
    _body(fuzz_api, body)


# -- the long run: pytest -m fuzz tests/fuzz ------------------------------------------


@pytest.fixture
def long_run(request: pytest.FixtureRequest) -> None:
    if "fuzz" not in (request.config.option.markexpr or ""):
        pytest.skip("the long fuzz run: pytest -m fuzz tests/fuzz")


@pytest.mark.fuzz
@LONG
@given(ticket=tickets_in, evs=st.lists(events, max_size=5), now=instants)
def test_long_record_and_explain(
    long_run: None, fuzz_api: Api, ticket: dict[str, Any], evs: list[dict[str, Any]], now: str
) -> None:
    _record(fuzz_api, ticket, evs)
    _explain(fuzz_api, ticket, evs, now)


@pytest.mark.fuzz
@LONG
@given(f=filters, lf=log_filters, af=alert_filters, n=firsts, c=cursors, body=bodies)
def test_long_lists_and_bodies(
    long_run: None, fuzz_api: Api, f: Any, lf: Any, af: Any, n: Any, c: Any, body: bytes
) -> None:
    _lists(fuzz_api, f, lf, af, n, c)
    _body(fuzz_api, body)
