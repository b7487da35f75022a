"""Plain leaf fields resolved inline: the executor reads them with one `getattr`.

Most of a list page's fields are plain attributes of a dataclass (a cycle's `metric`,
`state`, `dueAt`; a log row's every field) that strawberry marks as basic: no resolver,
no permission classes, no field extensions. graphql-core still runs each one through
its per-field machinery (a resolve info, a path, the strawberry wrapper, the non-null,
list and leaf checks), which costs more than the page's SQL. `FastExecutor` reads such a
field (a scalar or an enum, not a list) straight off its source object and coerces it
as graphql-core would; anything unusual (null for a non-null field, a value of another
type than the shortcut expects, an exception) takes graphql-core's own path for that
field, so its value or error is exactly what it was.

`fast_executor(schema)` builds the plans once per schema, from the built graphql-core
types: which fields are plain leaves, their Python names, their coercions.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition

__all__ = ["FastExecutor", "fast_executor", "leaf_plans"]

MISS: Any = object()  # the inline read declined: graphql-core resolves the field
Plan = Callable[[Any], Any]  # source object -> the completed value, or MISS
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _coerce(named: Any) -> Callable[[Any], Any]:
    """The value as graphql-core completes it for a non-null value of `named`, or MISS."""
    if named is GraphQLInt:
        return lambda v: v if type(v) is int and INT_MIN <= v <= INT_MAX else MISS
    if named is GraphQLFloat:
        return lambda v: v if type(v) is float and math.isfinite(v) else MISS
    if named is GraphQLBoolean:
        return lambda v: v if type(v) is bool else MISS
    if named is GraphQLString or named is GraphQLID:
        return lambda v: v if type(v) is str else MISS
    if isinstance(named, GraphQLEnumType):
        cls = getattr(named, "wrapped_cls", None)  # strawberry's: Python enum members out
        if cls is None:
            return lambda v: MISS
        names: dict[Any, str] = {}
        for n, d in named.values.items():  # the first name of a member wins, as in strawberry
            names.setdefault(cls(d.value), n)
        return lambda v: names.get(v, MISS) if type(v) is cls else MISS
    coerce = named.coerce_output_value  # a custom scalar (DateTime, JSON): its own code

    def custom(v: Any) -> Any:
        try:
            out = coerce(v)
        except Exception:  # graphql-core's path raises it again, located
            return MISS
        return MISS if out is None or isinstance(out, Awaitable) else out

    return custom


def _plan(python_name: str, nullable: bool, coerce: Callable[[Any], Any]) -> Plan:
    def read(source: Any) -> Any:
        try:
            v = getattr(source, python_name)
        except Exception:
            return MISS
        if v is None:
            return None if nullable else MISS
        return coerce(v)

    return read


def leaf_plans(schema: GraphQLSchema) -> dict[str, dict[str, Plan]]:
    """Per object type name, its plain leaf fields (by GraphQL name) and how to read them."""
    out: dict[str, dict[str, Plan]] = {}
    for name, t in schema.type_map.items():
        if name.startswith("__") or not isinstance(t, GraphQLObjectType):
            continue
        definition = t.extensions.get("strawberry-definition")
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        by_name = {f.name: f for f in definition.fields}  # GraphQL names (camelCase)
        plans: dict[str, Plan] = {}
        for field_name, f in t.fields.items():
            sf = f.extensions.get("strawberry-definition") or by_name.get(field_name)
            if sf is None or not getattr(f.resolve, "_is_default", False):
                continue  # a resolver, permissions or extensions: strawberry's path
            if f.args or not sf.is_basic_field or sf.default_resolver is not getattr:
                continue
            ftype, nullable = f.type, True
            if isinstance(ftype, GraphQLNonNull):
                ftype, nullable = ftype.of_type, False
            if not isinstance(ftype, GraphQLScalarType | GraphQLEnumType):
                continue  # lists and objects: graphql-core's path
            plans[field_name] = _plan(sf.python_name, nullable, _coerce(ftype))
        if plans:
            out[name] = plans
    return out


def object_types(schema: GraphQLSchema) -> dict[Any, tuple[GraphQLObjectType, type]]:
    """Per output type (`T` and `T!`, by identity) of a strawberry object type without an
    `is_type_of`: the object type and its Python class."""
    out: dict[Any, tuple[GraphQLObjectType, type]] = {}
    for name, t in schema.type_map.items():
        if name.startswith("__") or not isinstance(t, GraphQLObjectType) or t.is_type_of:
            continue
        definition = t.extensions.get("strawberry-definition")
        if isinstance(definition, StrawberryObjectDefinition):
            out[id(t)] = (t, definition.origin)
    return out


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor with the plain leaf fields of `plans` read inline, and an
    object value of a strawberry type completed straight by `execute_fields`."""

    plans: ClassVar[dict[str, dict[str, Plan]]] = {}
    objects: ClassVar[dict[int, tuple[GraphQLObjectType, type]]] = {}

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        # what graphql-core does for `T` and `T!` (T an object type, no is_type_of) when
        # the value is an instance of T's class and nothing is deferred
        inner = return_type.of_type if type(return_type) is GraphQLNonNull else return_type
        known = self.objects.get(id(inner))
        if known is not None and position_context is None and type(result) is known[1]:
            t = known[0]
            grouped, new_defer_usages, _ = self.collect_subfields(t, field_details_list)
            if not new_defer_usages:
                return self.execute_fields(t, result, path, grouped, None)
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plans = self.plans.get(parent_type.name)
        mm = self.middleware_manager
        if plans is None or (mm is not None and mm._middleware_resolvers is not None):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        done: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for response_name, details in grouped_field_set.items():
            plan = plans.get(details[0].node.name.value)
            value = MISS if plan is None else plan(source_value)
            if value is MISS:
                rest[response_name] = details
            else:
                done[response_name] = value
        if not rest:
            return done
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(others):

            async def merged() -> dict[str, Any]:
                return _in_order(grouped_field_set, done, await others)

            return merged()
        return _in_order(grouped_field_set, done, others)  # type: ignore[arg-type]


def _in_order(grouped: Any, done: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """The fields in the query's order (a field graphql-core left out stays out)."""
    if not done:
        return others
    out = {}
    for name in grouped:
        if name in done:
            out[name] = done[name]
        elif name in others:
            out[name] = others[name]
    return out


def fast_executor(schema: GraphQLSchema) -> type[FastExecutor]:
    """A `FastExecutor` subclass holding `schema`'s plans."""
    attrs = {"plans": leaf_plans(schema), "objects": object_types(schema)}
    return type("SlaFastExecutor", (FastExecutor,), attrs)
