"""GraphQL inputs → the raw shape of the engine's intake, and what a query selects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from slarules.errors import BAD_USER_INPUT, ServiceError
from slarules.graphql import input_types as gi

__all__ = ["raw_event", "raw_ticket", "selects", "selects_below"]


def raw_event(e: gi.EventInput | gi.ExplainEventInput, key: str) -> dict[str, Any]:
    """A GraphQL event input → the intake's raw shape (engine.intake)."""
    given = [
        (n, v)
        for n, v in (("message", e.message), ("status", e.status), ("update", e.update))
        if v is not None
    ]
    if len(given) != 1:
        raise ServiceError(
            BAD_USER_INPUT,
            f"{key}: an event has exactly one of message, status, update (got {len(given)})",
            key=key,
            reason="bad-value",
        )
    kind, value = given[0]
    raw: dict[str, Any] = {"at": e.at, "type": kind}
    if isinstance(value, gi.MessageInput):
        raw.update(by=value.by.value, text=value.text, channel=value.channel)
        if value.public is not None:
            raw["public"] = value.public
    elif isinstance(value, gi.UpdateInput):
        raw.update(set=value.set if value.set is not None else {}, unset=value.unset or [])
    else:
        raw["status"] = value
    return raw


def raw_ticket(t: gi.TicketInput) -> dict[str, Any]:
    """A GraphQL ticket input → the intake's raw shape."""
    return {
        "id": str(t.id),
        "created_at": t.created_at,
        "created_by": (t.created_by or gi.Author.CUSTOMER).value,
        "fields": t.fields,
    }


def _walk(info: strawberry.Info, hit: Callable[[str], bool], deep: bool) -> bool:
    """Does a field under this one (its own sub-fields; `deep`: at any depth) satisfy `hit`,
    fragments included? Read from graphql-core's nodes: strawberry's `selected_fields`
    builds a tree of the whole selection first. Directives are not applied (a field under
    `@skip` counts), as they are not in `selected_fields`."""
    raw = info._raw_info
    fragments = raw.fragments

    def walk(selection_set: Any, seen: frozenset[str]) -> bool:
        for sel in selection_set.selections if selection_set is not None else ():
            if isinstance(sel, FieldNode):
                if hit(sel.name.value):
                    return True
                if deep and walk(sel.selection_set, seen):
                    return True
            elif isinstance(sel, InlineFragmentNode):
                if walk(sel.selection_set, seen):
                    return True
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = fragments.get(name)
                if (
                    frag is not None
                    and name not in seen
                    and walk(frag.selection_set, seen | {name})
                ):
                    return True
        return False

    return any(walk(node.selection_set, frozenset()) for node in raw.field_nodes)


def selects(info: strawberry.Info, name: str) -> bool:
    """Does the query select the sub-field `name` of this field (fragments included)?
    (`totalCount` is counted and ticket views are built only when asked for.)"""
    return _walk(info, lambda n: n == name, deep=False)


def selects_below(info: strawberry.Info, names: frozenset[str]) -> bool:
    """Does the query select a field named in `names` anywhere under this field? (A
    ticket page reads events and evaluation logs only when a node shows them.)"""
    return _walk(info, names.__contains__, deep=True)
