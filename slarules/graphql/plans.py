"""The pieces of graphql/fast.py's plans: a plan completes a value as graphql-core would,
or says MISS (graphql-core's own path then completes it from scratch).

A leaf's completion is `coerce(named type)`; a field read and completed is `step`; an
object's fields are `fused` into one generated function (its leaves inline); lists of
objects are `objects`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from keyword import iskeyword
from types import CodeType
from typing import Any, NamedTuple

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLString,
)

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "MISS",
    "Leaf",
    "Plan",
    "Step",
    "coerce",
    "constant",
    "fused",
    "instance",
    "item",
    "list_of",
    "objects",
    "step",
]

MISS: Any = object()  # a shortcut declined: graphql-core completes the value
Plan = Callable[[Any], Any]  # source object -> the completed value, or MISS
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


# The completion of a non-null value `v` of a built-in scalar, as an expression: compiled
# into `coerce`'s functions and inlined into the fused plans (`fused`).
_INLINE: dict[Any, str] = {
    GraphQLInt: "v if type(v) is int and INT_MIN <= v <= INT_MAX else MISS",
    GraphQLFloat: "v if type(v) is float and isfinite(v) else MISS",
    GraphQLBoolean: "v if type(v) is bool else MISS",
    GraphQLString: "v if type(v) is str else MISS",
    GraphQLID: "v if type(v) is str else MISS",
}
_NAMES = {"MISS": MISS, "INT_MIN": INT_MIN, "INT_MAX": INT_MAX, "isfinite": math.isfinite}


def coerce(named: Any) -> Callable[[Any], Any]:
    """The value as graphql-core completes it for a non-null value of `named`, or MISS."""
    expr = _INLINE.get(named)
    if expr is not None:
        got: Callable[[Any], Any] = eval(f"lambda v: {expr}", dict(_NAMES))
        return got
    if isinstance(named, GraphQLEnumType):
        cls = getattr(named, "wrapped_cls", None)  # strawberry's: Python enum members out
        if cls is None:
            return lambda v: MISS
        names: dict[int, str] = {}  # by the member's identity (members are singletons)
        for n, d in named.values.items():  # the first name of a member wins, as in strawberry
            names.setdefault(id(cls(d.value)), n)
        return lambda v: names.get(id(v), MISS) if type(v) is cls else MISS
    coerce = named.coerce_output_value  # a custom scalar (DateTime, JSON): its own code

    def custom(v: Any) -> Any:
        if isinstance(v, Exception):  # graphql-core raises it as the field's error
            return MISS
        try:
            out = coerce(v)
        except Exception:  # graphql-core's path raises it again, located
            return MISS
        if type(out) is str:  # DateTime's (no ABC check for the common case)
            return out
        return MISS if out is None or isinstance(out, Awaitable) else out

    return custom


def step(get: Callable[[Any], Any], complete: Callable[[Any], Any], nullable: bool) -> Plan:
    """A field's value: `get` from the source (an attribute, a resolver), then `complete`."""

    def read(source: Any) -> Any:
        try:
            v = get(source)
        except Exception:
            return MISS
        if v is None:
            return None if nullable else MISS
        return complete(v)

    return read


class Leaf(NamedTuple):
    """A plain leaf field: its Python name, its named type (scalar or enum) and nullability."""

    python_name: str
    named: Any
    nullable: bool


def constant(value: str) -> Plan:
    return lambda source: value


def instance(sub: Plan, cls: type) -> Plan:
    return lambda v: sub(v) if type(v) is cls else MISS


def list_of(item: Plan) -> Plan:
    def complete(v: Any) -> Any:
        if type(v) is not list and type(v) is not tuple:
            return MISS
        out = []
        for x in v:
            got = item(x)
            if got is MISS:
                return MISS
            out.append(got)
        return out

    return complete


def objects(cls: type, sub: Plan, nullable: bool) -> Plan:
    """`list_of(item(cls, sub, nullable))` with the item's checks in the loop (a list page
    completes hundreds of objects)."""

    def complete(v: Any) -> Any:
        if type(v) is not list and type(v) is not tuple:
            return MISS
        out: list[Any] = []
        for x in v:
            if x is None:
                if not nullable:
                    return MISS
                out.append(None)
                continue
            if type(x) is not cls:
                return MISS
            got = sub(x)
            if got is MISS:
                return MISS
            out.append(got)
        return out

    return complete


def item(cls: type | None, sub: Plan, nullable: bool) -> Plan:
    """One list item: an object of exactly `cls` (or a leaf when `cls` is None)."""
    if cls is None:
        return lambda x: (None if nullable else MISS) if x is None else sub(x)
    return lambda x: (
        (None if nullable else MISS) if x is None else sub(x) if type(x) is cls else MISS
    )


Step = tuple[str, Plan, Leaf | str | None]  # response name, plan; a leaf, a constant, or None
_CODE: dict[str, CodeType] = {}  # a fused plan's text -> its compiled code


def fused(steps: list[Step]) -> Plan:
    """An object's plan: each step's value under its response name, or MISS as soon as one
    is MISS. One generated function: the leaves' reads and completions inline (what their
    plans do: `step` over `coerce`), the other steps called. An object's fields cost one
    call instead of two or three per leaf."""
    names: dict[str, Any] = dict(_NAMES)
    body = ["def run(source):"]
    for k, (_, plan, how) in enumerate(steps):
        if isinstance(how, str):  # __typename
            names[f"C{k}"] = how
            body.append(f"    r{k} = C{k}")
            continue
        if how is None or not how.python_name.isidentifier() or iskeyword(how.python_name):
            names[f"P{k}"] = plan
            body += [f"    r{k} = P{k}(source)", f"    if r{k} is MISS:", "        return MISS"]
            continue
        expr = _INLINE.get(how.named)
        if expr is None:  # an enum or a custom scalar: its completion function
            names[f"F{k}"] = coerce(how.named)
            expr = f"F{k}(v)"
        body += [
            "    try:",
            f"        v = source.{how.python_name}",
            "    except Exception:",
            "        return MISS",
            "    if v is None:",
            f"        {'r' + str(k) + ' = None' if how.nullable else 'return MISS'}",
            "    else:",
            f"        r{k} = {expr}",
            f"        if r{k} is MISS:",
            "            return MISS",
        ]
    for k, (response_name, _, _) in enumerate(steps):
        names[f"K{k}"] = response_name
    body.append("    return {" + ", ".join(f"K{k}: r{k}" for k in range(len(steps))) + "}")
    text = "\n".join(body)  # the shape of the selection: the same for every request
    code = _CODE.get(text)
    if code is None:
        if len(_CODE) >= 1024:
            _CODE.clear()
        code = _CODE[text] = compile(text, "<fast plan>", "exec")
    exec(code, names)
    run: Plan = names["run"]
    return run
