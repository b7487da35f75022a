"""Fixed vocabulary the editor offers: keywords per block, field meanings, zones, countries."""

from __future__ import annotations

import functools
import zoneinfo
from typing import get_args

from slarules.dsl.names import DAYS as DSL_DAYS
from slarules.dsl.names import DEFAULT_PRIORITIES as DSL_PRIORITIES
from slarules.engine.policy import DEFAULT_STATUSES as ENGINE_STATUSES
from slarules.engine.policy import METRICS as ENGINE_METRICS
from slarules.engine.policy import Category

# The language's own vocabulary, from where it is defined (one definition each).
METRICS: tuple[str, ...] = tuple(ENGINE_METRICS)
DAYS: tuple[str, ...] = tuple(DSL_DAYS)
FIELD_TYPES: tuple[str, ...] = ("text", "number", "bool", "date", "datetime", "list")
CATEGORIES: tuple[str, ...] = get_args(Category)
DEFAULT_PRIORITIES: tuple[str, ...] = tuple(DSL_PRIORITIES)
DEFAULT_STATUSES: tuple[str, ...] = tuple(ENGINE_STATUSES)

# Keywords that may start a statement, by the block the cursor is in.
BLOCK_KEYWORDS: dict[str, tuple[str, ...]] = {
    "top": ("timezone", "schema", "statuses", "calendar", "level", "default", "rule"),
    "schema": ("priorities", "sources", "field"),
    "statuses": CATEGORIES,
    "calendar": ("timezone", "hours", "holidays", "closed"),
    "level": ("title", "calendar", *METRICS, "pause", "warn"),
    "rule": ("when", "set", "stop"),
    "table": ("else",),
}
CONDITION_KEYWORDS: tuple[str, ...] = ("not", "true", "false")
OPERATORS: dict[str, tuple[str, ...]] = {
    "text": (
        "==",
        "!=",
        "in",
        "not in",
        "contains",
        "starts with",
        "ends with",
        "matches",
        "is set",
    ),
    "priority": ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "is set"),
    "number": ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "is set"),
    "list": ("contains", "contains any", "contains all", "is set"),
    "bool": ("==", "!=", "is set", "and", "or"),
    "date": ("==", "!=", "<", "<=", ">", ">=", "is set"),
    "datetime": ("==", "!=", "<", "<=", ">", ">=", "during", "is set"),
}

# Built-in ticket fields: (type, meaning), from docs/language.md.
BUILTIN_FIELDS: dict[str, tuple[str, str]] = {
    "source": ("text", "channel: email, chat, phone, web, api, …"),
    "status": ("text", "current status (a name of the `statuses` block)"),
    "priority": ("priority", "ordered by the schema's `priorities`"),
    "tags": ("list", "the ticket's tags"),
    "department": ("text", "the ticket's department"),
    "customer_group": ("text", "the requester's customer group, e.g. VIP"),
    "assignee": ("text", "assigned agent"),
    "agent_status": ("text", "status of the assigned agent: online, offline, away, …"),
    "requester": ("text", "requester's e-mail or id"),
    "subject": ("text", "the ticket's subject"),
    "last_message": ("text", "text of the newest public message"),
    "last_message_by": ("text", "`customer` or `agent`"),
    "referrer": ("text", "URL the ticket started from"),
    "created_at": ("datetime", "when the ticket was created"),
    "updated_at": ("datetime", "when the ticket last changed"),
    "deleted": ("bool", "the ticket was deleted"),
    "from_invitation": ("bool", "created from a chat invitation"),
}
PARTS: dict[str, tuple[str, str]] = {
    "weekday": ("weekday", '`"mon"`…`"sun"` in the ruleset\'s time zone, ordered'),
    "hour": ("number", "hour 0–23 in the ruleset's time zone"),
}
METRIC_MEANINGS: dict[str, str] = {
    "first_response": "from creation to the team's first public reply",
    "next_response": "from each customer message to the team's next public reply",
    "periodic_response": "the longest the team may stay silent while the ticket is open",
    "requester_wait": "time the requester waits on the team (paused while waiting on them)",
    "agent_work": "time the ticket is open on the team (not waiting, not on hold)",
    "resolution": "from creation to solved, paused while waiting on the customer",
}


@functools.cache
def time_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


@functools.cache
def countries() -> dict[str, tuple[str, ...]]:
    """Holiday country codes of the pinned `holidays` package → their subdivision codes."""
    import holidays

    return {c: tuple(s) for c, s in sorted(holidays.list_supported_countries().items())}
