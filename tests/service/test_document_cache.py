"""Parsed and validated documents are kept per query text; errors take strawberry's path."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema

from slarules.graphql.documents import DocumentCache, key_of
from tests.service.conftest import Api

TYPENAME = "{ __typename }"


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count graphql-core validations (strawberry's `validate_document`)."""
    seen: list[str] = []
    real = strawberry_schema.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        seen.append("v")
        return real(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    return seen


def test_a_repeated_query_is_validated_once(api: Api, validations: list[str]) -> None:
    for _ in range(3):
        assert api.data(TYPENAME) == {"__typename": "Query"}
    assert len(validations) == 1


def test_a_syntax_error_is_answered_the_same_every_time(api: Api, validations: list[str]) -> None:
    first = api.error("{ ticket(id: ")
    again = api.error("{ ticket(id: ")
    assert first == again
    assert first["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Syntax Error" in first["message"]
    assert validations == []  # never parsed: never validated, never kept


def test_an_invalid_query_is_validated_again_and_answered_the_same(
    api: Api, validations: list[str]
) -> None:
    first = api.error("{ noSuchField }")
    again = api.error("{ noSuchField }")
    assert first == again
    assert first["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(validations) == 2  # not kept: each time through the rules


def test_the_depth_limit_still_holds_for_a_repeated_query(api: Api) -> None:
    depth = api.runtime.settings.max_depth
    nested = "query { " + '__type(name: "Query") { fields { type { ' * depth + "name"
    nested += " } } }" * depth + " }"
    first = api.error(nested)
    assert first == api.error(nested)
    assert first["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_mutation_validated_over_post_is_still_refused_over_get(api: Api) -> None:
    q = "mutation { reloadRules { ok } }"
    api.post(q)  # validates (and may be refused by role or run): keeps it when valid
    r = api.client.get("/graphql", params={"query": q})
    assert r.status_code == 400
    assert "mutation" in r.text.lower()


def test_the_cache_is_bounded_and_keyed_by_the_token_limit() -> None:
    cache = DocumentCache(maxsize=2)
    a, b, c = (key_of(q, {"max_tokens": 10}) for q in ("{ a }", "{ b }", "{ c }"))
    assert a is not None and b is not None and c is not None
    doc: Any = object()
    cache.put(a, doc)
    cache.put(b, doc)
    assert cache.get(a) is doc  # a is now the newest
    cache.put(c, doc)
    assert cache.get(b) is None and cache.get(a) is doc and len(cache) == 2
    assert key_of("{ a }", {"max_tokens": 11}) != a
    assert key_of("x" * 30_000, {}) is None


def test_a_bad_string_is_refused_every_time_the_same_query_comes(api: Api) -> None:
    q = '{ ticket(id: "a\\u0000b") { id } }'
    first = api.error(q)
    assert first == api.error(q)
    assert first["extensions"]["reason"] == "bad-character"
