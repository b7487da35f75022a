"""The prepared lane (graphql/prepared.py): a request whose text validated before runs
without strawberry's per-operation extensions, and answers exactly as strawberry's own
path does (the reference: a schema made with `fast=False`, which has no lane), errors,
masking, budget refusals and HTTP statuses included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import strawberry

from slarules.graphql.prepared import Lane
from slarules.graphql.schema import make_schema
from slarules.settings import DatabaseConfig, Settings
from tests.service.conftest import Api, open_api
from tests.service.test_fast_fields import QUERIES, _seed, _view


@pytest.fixture
def seeded(sqlite_db: DatabaseConfig) -> Iterator[Api]:
    with open_api(sqlite_db, scheduler=False) as api:
        _seed(api)
        yield api


@pytest.fixture
def long_way(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The query texts that went strawberry's own way (`strawberry.Schema.execute`) on a
    schema with a lane (not the reference's)."""
    seen: list[str | None] = []
    real = strawberry.Schema.execute

    async def spy(self: Any, query: str | None, *a: Any, **kw: Any) -> Any:
        if getattr(self, "lane", None) is not None:
            seen.append(query)
        return await real(self, query, *a, **kw)

    monkeypatch.setattr(strawberry.Schema, "execute", spy)
    return seen


def _post(api: Api, body: dict[str, Any], method: str = "POST", token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        params = {k: v for k, v in body.items() if isinstance(v, str)}
        return api.client.get("/graphql", params=params, headers=headers)
    return api.client.post("/graphql", json=body, headers=headers)


def _reference(api: Api, body: dict[str, Any], method: str = "POST", **kw: Any) -> Any:
    view = _view(api)
    fast = view.schema
    view.schema = make_schema(api.runtime.settings, fast=False)
    try:
        return _post(api, body, method, **kw)
    finally:
        view.schema = fast


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_a_repeated_query_takes_the_lane_and_answers_the_same(
    seeded: Api, long_way: list[str | None], query: str
) -> None:
    body = {"query": query, "variables": {}}
    first = _post(seeded, body).text
    second = _post(seeded, body).text
    assert long_way == [query]  # only the first went strawberry's way
    want = _reference(seeded, body).text
    assert '"errors"' not in want, want
    assert first == second == want


BAD = [
    # a service error (NOT_FOUND) of a cached mutation text
    (
        "mutation($e: [EventInput!]!) { recordEvents(events: $e) { applied } }",
        {
            "e": [
                {"eventId": "x", "ticketId": "T-s", "at": "2026-03-02T12:30:00Z", "status": "open"}
            ]
        },
        {"e": [{"eventId": "x", "ticketId": "nope", "at": "2026-03-02T12:30:00Z", "status": "x"}]},
    ),
    # a variable that does not coerce, one missing
    ("query($id: ID!) { ticket(id: $id) { id } }", {"id": "T-s"}, {"id": {"a": 1}}),
    ("query($id: ID!) { ticket(id: $id) { id } }", {"id": "T-s"}, {}),
    # a cost over the budget given by a variable: the lane declines, strawberry refuses
    (
        "query($n: Int) { tickets(first: $n) { edges { node { "
        + " ".join(f"c{i}: cycles {{ metric }}" for i in range(12))
        + " } } } }",
        {"n": 2},
        {"n": 1000},
    ),
    # a bad input the resolver refuses (BAD_USER_INPUT with its key)
    (
        "mutation($e: [EventInput!]!) { recordEvents(events: $e) { applied } }",
        {"e": []},
        {"e": [{"eventId": "y", "ticketId": "T-s", "at": "2026-03-02T12:30:00Z"}]},
    ),
]


@pytest.mark.parametrize(("query", "good", "bad"), BAD, ids=range(len(BAD)))
def test_errors_through_the_lane_are_strawberrys(
    seeded: Api, query: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    _post(seeded, {"query": query, "variables": good})  # the text is kept from here on
    got = _post(seeded, {"query": query, "variables": bad})
    want = _reference(seeded, {"query": query, "variables": bad})
    assert '"errors"' in want.text, want.text
    assert (got.status_code, got.text) == (want.status_code, want.text)


def test_an_unexpected_error_is_masked_the_same(
    seeded: Api, monkeypatch: pytest.MonkeyPatch, long_way: list[str | None]
) -> None:
    query = '{ ticket(id: "T-s") { id } }'
    _post(seeded, {"query": query})

    def boom(*a: Any, **kw: Any) -> Any:
        raise RuntimeError("secret detail")

    svc = seeded.runtime.require_service()
    monkeypatch.setattr(svc, "views", boom)
    got = _post(seeded, {"query": query})
    assert long_way == [query]
    want = _reference(seeded, {"query": query})
    assert "secret" not in got.text and "INTERNAL_SERVER_ERROR" in got.text
    assert got.text == want.text


def test_http_method_and_operation_name_rules_stay_strawberrys(
    seeded: Api, long_way: list[str | None]
) -> None:
    two = 'query A { ruleset { version } } query B { assignees(from: "2026-03-01T00:00:00Z", '
    two += 'to: "2026-03-03T00:00:00Z") { assignee } }'
    mutation = "mutation { recordEvents(events: []) { applied } }"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"query": two, "operationName": "A"}, "POST"),
        ({"query": two, "operationName": "B"}, "POST"),  # the lane: the text is kept
        ({"query": two}, "POST"),  # which operation? strawberry says
        ({"query": two, "operationName": "C"}, "POST"),
        ({"query": mutation}, "POST"),
        ({"query": mutation}, "GET"),  # no mutation over GET, even a kept text
        ({"query": "{ ruleset { version } }"}, "GET"),
        ({"query": "{ ruleset { version } }"}, "GET"),
    ]
    for body, method in cases:
        got = _post(seeded, body, method)
        want = _reference(seeded, body, method)
        assert (got.status_code, got.text) == (want.status_code, want.text), body
    assert long_way.count(two) == 3  # A (first, kept), no name, C: B took the lane


def test_introspection_without_the_role_is_refused_on_a_kept_text(
    sqlite_db: DatabaseConfig,
) -> None:
    with open_api(sqlite_db, tokens={"rtok": "read"}) as api:
        query = "{ __schema { queryType { name } } }"
        ok = _post(api, {"query": query}, token="rtok")
        assert ok.status_code == 200 and '"errors"' not in ok.text
        refused = _post(api, {"query": query})
        assert "UNAUTHENTICATED" in refused.text, refused.text
        assert refused.text == _reference(api, {"query": query}).text


def test_the_lane_is_made_only_for_the_fast_schema() -> None:
    assert isinstance(make_schema(Settings()).lane, Lane)
    assert make_schema(Settings(), fast=False).lane is None
