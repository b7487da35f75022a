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
  read and completed inline: `_fused`; the code is compiled once per shape);
- otherwise reads the object's plain leaves inline and leaves the rest to graphql-core.

Anything unusual (null for a non-null field, a value of another type than a shortcut
expects, an exception, a subclass) declines the shortcut: graphql-core's own path then
completes that value from scratch (reading attributes and calling pure resolvers again
changes nothing), so its value or error is exactly what it was.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from keyword import iskeyword
from operator import attrgetter
from types import CodeType
from typing import Any, ClassVar, NamedTuple

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
)
from graphql.execution.values import get_argument_values
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition

__all__ = ["FastExecutor", "Tables", "fast_executor", "tables"]

# modules whose sync resolvers are pure reads of their object: a plan may call one, then
# hand the object to graphql-core, which calls it again
PURE_MODULES = frozenset({"slarules.graphql.types"})
MISS: Any = object()  # a shortcut declined: graphql-core completes the value
Plan = Callable[[Any], Any]  # source object -> the completed value, or MISS
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


# The completion of a non-null value `v` of a built-in scalar, as an expression: compiled
# into `_coerce`'s functions and inlined into the fused plans (`_fused`).
_INLINE: dict[Any, str] = {
    GraphQLInt: "v if type(v) is int and INT_MIN <= v <= INT_MAX else MISS",
    GraphQLFloat: "v if type(v) is float and isfinite(v) else MISS",
    GraphQLBoolean: "v if type(v) is bool else MISS",
    GraphQLString: "v if type(v) is str else MISS",
    GraphQLID: "v if type(v) is str else MISS",
}
_NAMES = {"MISS": MISS, "INT_MIN": INT_MIN, "INT_MAX": INT_MAX, "isfinite": math.isfinite}


def _coerce(named: Any) -> Callable[[Any], Any]:
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


def _step(get: Callable[[Any], Any], complete: Callable[[Any], Any], nullable: bool) -> Plan:
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


class Basic(NamedTuple):
    """A plain field: its Python name and GraphQL type."""

    python_name: str
    type: Any


class Call(NamedTuple):
    """A pure resolver field strawberry would call as `call(source, **arguments)`."""

    field: Any  # the GraphQLField
    call: Callable[..., Any]
    names: dict[str, str]  # GraphQL argument name -> Python name


class Leaf(NamedTuple):
    """A plain leaf field: its Python name, its named type (scalar or enum) and nullability."""

    python_name: str
    named: Any
    nullable: bool


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
                reads[field_name] = _step(attrgetter(b.python_name), _coerce(named), nullable)
                kinds[field_name] = Leaf(b.python_name, named, nullable)
        leaves[name], specs[name] = reads, kinds
    return Tables(basic, leaves, objects, calls, specs)


def _constant(value: str) -> Plan:
    return lambda source: value


def _instance(sub: Plan, cls: type) -> Plan:
    return lambda v: sub(v) if type(v) is cls else MISS


def _list(item: Plan) -> Plan:
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


def _objects(cls: type, sub: Plan, nullable: bool) -> Plan:
    """`_list(_item(cls, sub, nullable))` with the item's checks in the loop (a list page
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


def _item(cls: type | None, sub: Plan, nullable: bool) -> Plan:
    """One list item: an object of exactly `cls` (or a leaf when `cls` is None)."""
    if cls is None:
        return lambda x: (None if nullable else MISS) if x is None else sub(x)
    return lambda x: (
        (None if nullable else MISS) if x is None else sub(x) if type(x) is cls else MISS
    )


Step = tuple[str, Plan, Leaf | str | None]  # response name, plan; a leaf, a constant, or None
_CODE: dict[str, CodeType] = {}  # a fused plan's text -> its compiled code


def _fused(steps: list[Step]) -> Plan:
    """An object's plan: each step's value under its response name, or MISS as soon as one
    is MISS. One generated function: the leaves' reads and completions inline (what their
    plans do: `_step` over `_coerce`), the other steps called. An object's fields cost one
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
            names[f"F{k}"] = _coerce(how.named)
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
                steps.append((response_name, _constant(t.name), t.name))
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
        return _fused(steps)

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
            return _step(get, _coerce(inner), nullable)
        if isinstance(inner, GraphQLList):
            item_type, item_nullable = _unwrap(inner.of_type)
            if isinstance(item_type, GraphQLScalarType | GraphQLEnumType):
                return _step(get, _list(_item(None, _coerce(item_type), item_nullable)), nullable)
            known = self.t.objects.get(id(item_type))
            sub = None if known is None else self._plan_of(known[0], details)
            if known is None or sub is None:
                return None
            return _step(get, _objects(known[1], sub, item_nullable), nullable)
        known = self.t.objects.get(id(inner))
        sub = None if known is None else self._plan_of(known[0], details)
        return (
            None if known is None or sub is None else _step(get, _instance(sub, known[1]), nullable)
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
        return _objects(known[1], plan, item_nullable)(items)

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
