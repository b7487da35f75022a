"""Resolver fields called straight from graphql-core, as strawberry would call them.

strawberry wraps every resolver in a generic one: it builds an `Info`, converts the
arguments (input objects to dataclasses, `Maybe`, lists copied), runs the field
extensions and exception handlers, then calls the method. For a resolver (sync or
async) without extensions, permissions or exception handlers, all that reduces to: the
source as `self`, the arguments under their Python names converted by a function
compiled once per argument type (`converter`: scalars and enums as graphql-core coerced
them, lists copied, input objects built as strawberry builds them), an `Info` if it asks
for one. `direct_resolvers` gives such fields that call as their graphql-core resolver;
an argument type `converter` does not cover leaves the field to strawberry.
`tests/service/test_direct_inputs.py` compares `converter` with strawberry's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING
from typing import Any

from graphql import GraphQLObjectType
from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

__all__ = ["converter", "direct_resolvers"]


Convert = Callable[[Any], Any]


def _same(v: Any) -> Any:
    return v


def converter(t: Any, registry: Any, config: Any, seen: frozenset[Any] = frozenset()) -> Any:
    """strawberry's `convert_argument` for values of type `t`, compiled once: leaves (scalars,
    enums) as they are, lists copied, input objects built from their GraphQL names with the
    same implicit None defaults; None for a type this does not cover (a `Maybe`, a GlobalID,
    an input with its own `from_input`, a recursive input): strawberry converts those."""
    if isinstance(t, StrawberryMaybe) or t is GlobalID or t in seen:
        return None
    if isinstance(t, StrawberryOptional):
        return converter(t.of_type, registry, config, seen)
    if isinstance(t, LazyType):
        return converter(t.resolve_type(), registry, config, seen)
    if is_scalar(t, registry) or isinstance(t, StrawberryEnumDefinition) or has_enum_definition(t):
        return _same
    if isinstance(t, StrawberryList):
        inner = converter(t.of_type, registry, config, seen)
        if inner is None:
            return None
        if inner is _same:  # copied: graphql-core shares one default value between requests
            return lambda v: v if v is None or v is UNSET else list(v)
        return lambda v: v if v is None or v is UNSET else [inner(x) for x in v]
    if not has_object_definition(t):
        return None
    d = t.__strawberry_definition__
    if not d.is_input or d.from_input is not None:
        return None
    base = {
        f.python_name: None
        for f in d.fields
        if f.default_value is MISSING and f.default_factory is MISSING
    }
    fields = []
    for f in d.fields:
        c = converter(f.resolve_type(type_definition=d), registry, config, seen | {t})
        if c is None:
            return None
        fields.append((config.name_converter.from_field(f), f.python_name, c))

    def build(v: Any) -> Any:
        if v is None or v is UNSET:
            return v
        kwargs = dict(base)
        for graphql_name, python_name, c in fields:
            if graphql_name in v:
                kwargs[python_name] = c(v[graphql_name])
        return t(**kwargs)

    return build


def direct_resolvers(strawberry_schema: Any) -> int:
    """Give the fields that qualify (see the module) their direct call as resolver; none
    when the schema has exception handlers. Returns how many fields it changed."""
    core = strawberry_schema.schema_converter
    if getattr(core, "_exception_handler_specs", ()):
        return 0
    config = strawberry_schema.config
    info_class = config.info_class
    registry = core.scalar_registry
    changed = 0
    for name, t in strawberry_schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(t, GraphQLObjectType):
            continue
        for f in t.fields.values():
            sf = f.extensions.get("strawberry-definition")
            r = None if sf is None else sf.base_resolver
            if r is None or sf.extensions or sf.is_subscription:
                continue
            if r.parent_parameter or r.root_parameter:
                continue
            names = {}
            for (gn, _), a in zip(f.args.items(), sf.arguments, strict=True):
                c = converter(a.type, registry, config)
                if c is None:
                    break
                names[gn] = (a.python_name, c)
            else:
                f.resolve = _direct(r, sf, names, info_class)
            changed += 1
    return changed


def _direct(
    r: Any, sf: Any, names: dict[str, tuple[str, Convert]], info_class: Any
) -> Callable[..., Any]:
    call = r.wrapped_func
    with_self = r.self_parameter is not None
    info_name = r.info_parameter.name if r.info_parameter is not None else None

    def resolve(source: Any, info: Any, /, **kwargs: Any) -> Any:  # an argument may be `source`
        args = {}
        for k, v in kwargs.items():
            python_name, c = names[k]
            args[python_name] = v if c is _same else c(v)
        if info_name is not None:
            args[info_name] = info_class(_raw_info=info, _field=sf)
        return call(source, **args) if with_self else call(**args)

    if all(c is _same for _, c in names.values()):  # fast.py may call it with leaf values
        plain = {k: python_name for k, (python_name, _) in names.items()}
        resolve.direct = (call, with_self, plain, info_name)  # type: ignore[attr-defined]
    return resolve
