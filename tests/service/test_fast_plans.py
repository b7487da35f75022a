"""A fused plan (graphql/plans.py `fused`) completes an object as its steps do one by one:
each leaf read and completed as `_step` over `_coerce` does, constants, other plans called,
MISS as soon as one step is MISS; the generated code is compiled once per shape."""

from __future__ import annotations

import math
from typing import Any

import pytest
from graphql import GraphQLBoolean, GraphQLFloat, GraphQLID, GraphQLInt, GraphQLString

from slarules.graphql import plans
from slarules.graphql.plans import MISS, Leaf, coerce, fused, step


class Source:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    @property
    def broken(self) -> Any:
        raise RuntimeError("no")


LEAVES = [
    ("i", GraphQLInt),
    ("f", GraphQLFloat),
    ("b", GraphQLBoolean),
    ("s", GraphQLString),
    ("d", GraphQLID),
]
VALUES = [None, 0, 1, -(2**31), 2**31, True, 1.5, math.inf, math.nan, "x", b"x", [1]]


def _one_by_one(steps: list[Any], source: Any) -> Any:
    out = {}
    for name, plan, _ in steps:
        v = plan(source)
        if v is MISS:
            return MISS
        out[name] = v
    return out


def _leaf(response: str, attr: str, named: Any, nullable: bool) -> tuple[str, Any, Leaf]:
    plan = step(lambda s: getattr(s, attr), coerce(named), nullable)
    return (response, plan, Leaf(attr, named, nullable))


@pytest.mark.parametrize("nullable", [True, False])
@pytest.mark.parametrize(("attr", "named"), LEAVES)
def test_each_leaf_completes_as_its_plan(attr: str, named: Any, nullable: bool) -> None:
    steps = [_leaf("out", attr, named, nullable), ("__typename", plans.constant("T"), "T")]
    run = fused(steps)
    for v in VALUES:
        src = Source(**{attr: v})
        assert run(src) == _one_by_one(steps, src), v


def test_a_raising_attribute_a_missing_one_and_another_plan() -> None:
    inner = fused([_leaf("n", "n", GraphQLInt, False)])
    steps = [
        _leaf("a", "s", GraphQLString, True),
        ("sub", lambda s: inner(s.child), None),
        _leaf("z", "broken", GraphQLString, True),
    ]
    run = fused(steps)
    ok = Source(s="x", child=Source(n=3))
    assert fused(steps[:2])(ok) == {"a": "x", "sub": {"n": 3}}
    assert run(ok) is MISS  # the raising property: graphql-core's path reports it
    assert fused(steps[:2])(Source(s="x", child=Source(n="3"))) is MISS
    assert fused([_leaf("a", "missing", GraphQLString, True)])(ok) is MISS


def test_a_python_name_that_is_not_an_identifier_is_read_by_its_plan() -> None:
    plan = step(lambda s: getattr(s, "class"), coerce(GraphQLString), True)
    run = fused([("c", plan, Leaf("class", GraphQLString, True))])
    assert run(Source(**{"class": "x"})) == {"c": "x"}


def test_response_names_keep_their_order_and_the_code_is_compiled_once() -> None:
    steps = [_leaf("b", "s", GraphQLString, True), _leaf("a", "i", GraphQLInt, True)]
    plans._CODE.clear()
    first = fused(steps)
    other = fused([_leaf("y", "s", GraphQLString, True), _leaf("x", "i", GraphQLInt, True)])
    assert len(plans._CODE) == 1 and first.__code__ is other.__code__
    assert list(first(Source(s="v", i=1))) == ["b", "a"]
    assert other(Source(s="v", i=1)) == {"y": "v", "x": 1}


@pytest.mark.parametrize("nullable", [True, False])
def test_a_list_of_objects_completes_as_its_items_do(nullable: bool) -> None:
    sub = fused([_leaf("s", "s", GraphQLString, False)])
    objects, items = (
        plans.objects(Source, sub, nullable),
        plans.list_of(plans.item(Source, sub, nullable)),
    )
    for v in (
        [],
        [Source(s="a"), Source(s="b")],
        (Source(s="a"),),
        [Source(s="a"), None],
        [None],
        [Source(s=1)],
        [object()],
        [Source(s="a"), Source()],
        {Source(s="a")},
        None,
        "ab",
    ):
        assert objects(v) == items(v), v
