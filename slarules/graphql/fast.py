"""Plain fields completed by a few Python lines instead of graphql-core's machinery.

Most of a list page's fields are plain attributes of a dataclass (a cycle's `metric`,
`state`, `dueAt`; a log row's every field) that strawberry marks as basic. graphql-core
still runs each through its per-field machinery (a resolve info, a path, strawberry's
wrapper, the non-null, list and leaf checks), which costs more than the page's SQL.
`FastExecutor`:

- completes an object value of a strawberry type (or a list of them) whose selection is
  all plain leaves, `__typename`, plain objects and lists of them, and pure resolvers
  (`PURE_MODULES`; called as strawberry would, see direct.py), with a plan compiled
  once per request and selection (an object's plan is one generated function, its leaves
  read and completed inline: `plans.fused`; the code is compiled once per shape);
- otherwise reads the object's plain leaves inline and leaves the rest to graphql-core.

Anything unusual (null for a non-null field, a value of another type than a shortcut
expects, an exception, a subclass) declines the shortcut: graphql-core's own path then
completes that value from scratch (reading attributes and calling pure resolvers again
changes nothing), so its value or error is exactly what it was.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.execution.values import get_argument_values
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition

from slarules.graphql import plans
from slarules.graphql.plans import MISS, Leaf, Plan, Step

__all__ = ["FastExecutor", "Tables", "fast_executor", "tables"]

# modules whose sync resolvers are pure reads of their object: a plan may call one, then
# hand the object to graphql-core, which calls it again
PURE_MODULES = frozenset({"slarules.graphql.types"})


class Basic(NamedTuple):
    """A plain field: its Python name and GraphQL type."""

    python_name: str
    type: Any


class Call(NamedTuple):
    """A pure resolver field strawberry would call as `call(source, **arguments)`."""

    field: Any  # the GraphQLField
    call: Callable[..., Any]
    names: dict[str, str]  # GraphQL argument name -> Python name


class Tables(NamedTuple):
    basic: dict[str, dict[str, Basic]]  # type name -> GraphQL field name -> plain field
    leaves: dict[str, dict[str, Plan]]  # type name -> its plain leaf fields' reads
    objects: dict[int, tuple[GraphQLObjectType, type]]  # id(type) -> (type, Python class)
    calls: dict[str, dict[str, Call]]  # type name -> GraphQL field name -> pure resolver
    specs: dict[str, dict[str, Leaf]]  # type name -> its plain leaf fields


def _unwrap(t: Any) -> tuple[Any, bool]:
    return (t.of_type, False) if isinstance(t, GraphQLNonNull) else (t, True)


def tables(schema: GraphQLSchema) -> Tables:
    """The plain fields of every strawberry object type of `schema` (not lists of lists),
    and the pure resolvers (`direct.py`'s, in `PURE_MODULES`, not asking for `info`)."""
    basic: dict[str, dict[str, Basic]] = {}
    leaves: dict[str, dict[str, Plan]] = {}
    objects: dict[int, tuple[GraphQLObjectType, type]] = {}
    calls: dict[str, dict[str, Call]] = {}
    specs: dict[str, dict[str, Leaf]] = {}
    for name, t in schema.type_map.items():
        if name.startswith("__") or not isinstance(t, GraphQLObjectType):
            continue
        definition = t.extensions.get("strawberry-definition")
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        if not t.is_type_of:
            objects[id(t)] = (t, definition.origin)
        by_name = {f.name: f for f in definition.fields}  # GraphQL names (camelCase)
        plain: dict[str, Basic] = {}
        pure: dict[str, Call] = {}
        for field_name, f in t.fields.items():
            sf = f.extensions.get("strawberry-definition") or by_name.get(field_name)
            direct = getattr(f.resolve, "direct", None)
            if direct is not None and definition.origin.__module__ in PURE_MODULES:
                call, with_self, names, info_name = direct
                if with_self and info_name is None:
                    pure[field_name] = Call(f, call, names)
            if sf is None or not getattr(f.resolve, "_is_default", False):
                continue  # a resolver, permissions or extensions: strawberry's path
            if f.args or not sf.is_basic_field or sf.default_resolver is not getattr:
                continue
            plain[field_name] = Basic(sf.python_name, f.type)
        basic[name], calls[name] = plain, pure
        reads, kinds = {}, {}
        for field_name, b in plain.items():
            named, nullable = _unwrap(b.type)
            if isinstance(named, GraphQLScalarType | GraphQLEnumType):
                reads[field_name] = plans.step(
                    attrgetter(b.python_name), plans.coerce(named), nullable
                )
                kinds[field_name] = Leaf(b.python_name, named, nullable)
        leaves[name], specs[name] = reads, kinds
    return Tables(basic, leaves, objects, calls, specs)


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor with the shortcuts above (`t`: this schema's tables)."""

    t: ClassVar[Tables] = Tables({}, {}, {}, {}, {})
    _compiled: dict[tuple[int, int], tuple[Any, Plan | None]]  # per request, made when first used

    def _plain(self) -> bool:
        """No middleware wraps the resolvers (strawberry's extensions with `resolve`)."""
        mm = self.middleware_manager
        return mm is None or mm._middleware_resolvers is None

    def _plan_of(self, t: GraphQLObjectType, details: Any) -> Plan | None:
        """The compiled selection `details` on `t` (None: not all plain), once per request."""
        try:
            compiled = self._compiled
        except AttributeError:
            compiled = self._compiled = {}
        key = (id(t), id(details))
        got = compiled.get(key)
        if got is None:  # the entry keeps `details` alive, so its id is not reused
            got = compiled[key] = (details, self._compile(t, details))
        plan: Plan | None = got[1]
        return plan

    def _compile(self, t: GraphQLObjectType, details: Any) -> Plan | None:
        grouped, new_defer_usages, _ = self.collect_subfields(t, details)
        if new_defer_usages:
            return None
        basic, leaves = self.t.basic.get(t.name, {}), self.t.leaves.get(t.name, {})
        calls, specs = self.t.calls.get(t.name, {}), self.t.specs.get(t.name, {})
        steps: list[Step] = []
        for response_name, field_details in grouped.items():
            name = field_details[0].node.name.value
            if name == "__typename":
                steps.append((response_name, plans.constant(t.name), t.name))
                continue
            step = leaves.get(name)
            if step is not None:
                steps.append((response_name, step, specs[name]))
                continue
            if step is None and name in basic:
                b = basic[name]
                step = self._nested(b.type, attrgetter(b.python_name), field_details)
            elif step is None and name in calls:
                get = self._called(calls[name], field_details)
                step = (
                    None
                    if get is None
                    else self._nested(calls[name].field.type, get, field_details)
                )
            if step is None:
                return None
            steps.append((response_name, step, None))
        return plans.fused(steps)

    def _called(self, c: Call, details: Any) -> Callable[[Any], Any] | None:
        """The resolver with this selection's arguments (as graphql-core coerces them)."""
        node = details[0].node
        try:
            args = (
                get_argument_values(
                    c.field,
                    node,
                    self.variable_values,
                    details[0].fragment_variable_values,
                    self.hide_suggestions,
                )
                if c.field.args or node.arguments
                else {}
            )
        except Exception:  # graphql-core's path reports it
            return None
        kwargs = {c.names[k]: v for k, v in args.items()}
        call = c.call
        return (lambda s: call(s, **kwargs)) if kwargs else call

    def _nested(self, field_type: Any, get: Callable[[Any], Any], details: Any) -> Plan | None:
        """A field completed by a plan: a leaf, an object, a list of objects or leaves."""
        inner, nullable = _unwrap(field_type)
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            return plans.step(get, plans.coerce(inner), nullable)
        if isinstance(inner, GraphQLList):
            item_type, item_nullable = _unwrap(inner.of_type)
            if isinstance(item_type, GraphQLScalarType | GraphQLEnumType):
                return plans.step(
                    get,
                    plans.list_of(plans.item(None, plans.coerce(item_type), item_nullable)),
                    nullable,
                )
            known = self.t.objects.get(id(item_type))
            sub = None if known is None else self._plan_of(known[0], details)
            if known is None or sub is None:
                return None
            return plans.step(get, plans.objects(known[1], sub, item_nullable), nullable)
        known = self.t.objects.get(id(inner))
        sub = None if known is None else self._plan_of(known[0], details)
        return (
            None
            if known is None or sub is None
            else plans.step(get, plans.instance(sub, known[1]), nullable)
        )

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        inner = return_type.of_type if type(return_type) is GraphQLNonNull else return_type
        if position_context is None and self._plain():
            if type(inner) is GraphQLList and (type(result) is list or type(result) is tuple):
                got = self._complete_list(inner, field_details_list, path, result)
                if got is not MISS:
                    return got
            known = self.t.objects.get(id(inner))
            if known is not None and type(result) is known[1]:
                # graphql-core for `T`/`T!` (T without is_type_of) when nothing is deferred
                t = known[0]
                plan = self._plan_of(t, field_details_list)
                got = MISS if plan is None else plan(result)
                if got is not MISS:
                    return got
                grouped, new_defer_usages, _ = self.collect_subfields(t, field_details_list)
                if not new_defer_usages:
                    return self.execute_fields(t, result, path, grouped, None)
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _complete_list(self, list_type: Any, details: Any, path: Any, items: Any) -> Any:
        """A list of objects whose selection is all plain fields, or MISS."""
        item_type, item_nullable = _unwrap(list_type.of_type)
        known = self.t.objects.get(id(item_type))
        if known is None or self.get_stream_usage(details, path) is not None:
            return MISS
        plan = self._plan_of(known[0], details)
        if plan is None:
            return MISS
        return plans.objects(known[1], plan, item_nullable)(items)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        leaves = self.t.leaves.get(parent_type.name)
        if not leaves or not self._plain():
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        done: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for response_name, details in grouped_field_set.items():
            read = leaves.get(details[0].node.name.value)
            value = MISS if read is None else read(source_value)
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
    """A `FastExecutor` subclass holding `schema`'s tables."""
    return type("SlaFastExecutor", (FastExecutor,), {"t": tables(schema)})
