"""Resolver fields called straight from graphql-core, as strawberry would call them.

strawberry wraps every resolver in a generic one: it builds an `Info`, converts the
arguments (input objects to dataclasses, `Maybe`, lists copied), runs the field
extensions and exception handlers, then calls the method. For a sync resolver without
extensions, permissions or exception handlers, whose arguments are scalars or enums
(which strawberry passes on as graphql-core coerced them), all that reduces to: the
source as `self`, the arguments under their Python names, an `Info` if it asks for one.
`direct_resolvers` gives such fields that call as their graphql-core resolver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from strawberry.relay.types import GlobalID
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional

__all__ = ["direct_resolvers"]


def _leaf_argument(a: Any, graphql_type: Any) -> bool:
    """An argument strawberry passes on unconverted: a scalar or an enum (or an optional
    one), not a `Maybe`, a list, an input object or a GlobalID."""
    t = a.type
    if isinstance(t, StrawberryMaybe):
        return False
    if isinstance(t, StrawberryOptional):
        t = t.of_type
    if t is GlobalID or isinstance(t, StrawberryOptional | StrawberryList):
        return False
    named = graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type
    return isinstance(named, GraphQLScalarType | GraphQLEnumType)


def direct_resolvers(strawberry_schema: Any) -> int:
    """Give the fields that qualify (see the module) their direct call as resolver; none
    when the schema has exception handlers. Returns how many fields it changed."""
    converter = strawberry_schema.schema_converter
    if getattr(converter, "_exception_handler_specs", ()):
        return 0
    info_class = strawberry_schema.config.info_class
    changed = 0
    for name, t in strawberry_schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(t, GraphQLObjectType):
            continue
        for f in t.fields.values():
            sf = f.extensions.get("strawberry-definition")
            r = None if sf is None else sf.base_resolver
            if r is None or sf.is_async or sf.extensions or sf.is_subscription:
                continue
            pairs = list(zip(f.args.items(), sf.arguments, strict=True))
            if (
                r.parent_parameter
                or r.root_parameter
                or not all(_leaf_argument(a, ga.type) for (_, ga), a in pairs)
            ):
                continue
            names = {gn: a.python_name for (gn, _), a in pairs}
            f.resolve = _direct(r, sf, names, info_class)
            changed += 1
    return changed


def _direct(r: Any, sf: Any, names: dict[str, str], info_class: Any) -> Callable[..., Any]:
    call = r.wrapped_func
    with_self = r.self_parameter is not None
    info_name = r.info_parameter.name if r.info_parameter is not None else None

    def resolve(source: Any, info: Any, **kwargs: Any) -> Any:
        args = {names[k]: v for k, v in kwargs.items()} if kwargs else {}
        if info_name is not None:
            args[info_name] = info_class(_raw_info=info, _field=sf)
        return call(source, **args) if with_self else call(**args)

    resolve.direct = (call, with_self, names, info_name)  # type: ignore[attr-defined]
    return resolve
