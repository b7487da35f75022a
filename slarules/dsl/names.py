"""Fixed vocabulary of the language: keywords, built-in fields, days, and name hints."""

from __future__ import annotations

from slarules.engine.hints import did_you_mean
from slarules.engine.policy import METRICS

__all__ = ["BUILTIN_FIELDS", "DAYS", "DEFAULT_PRIORITIES", "KEYWORDS", "RESERVED", "did_you_mean"]

_WORDS = """timezone schema priorities sources field statuses calendar hours holidays
subdivision closed level title default rule when set stop none pause warn at
before by else and or not in contains any all starts ends with matches is
during true false"""
KEYWORDS: frozenset[str] = (
    frozenset(_WORDS.split())
    | frozenset(METRICS)
    | frozenset(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
)

# Names no field, level or calendar may take.
RESERVED: frozenset[str] = KEYWORDS | {"none", "always"}

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

BUILTIN_FIELDS: dict[str, str] = {
    "source": "text",
    "status": "text",
    "priority": "priority",
    "tags": "list",
    "department": "text",
    "customer_group": "text",
    "assignee": "text",
    "agent_status": "text",
    "requester": "text",
    "subject": "text",
    "last_message": "text",
    "last_message_by": "text",
    "referrer": "text",
    "created_at": "datetime",
    "updated_at": "datetime",
    "deleted": "bool",
    "from_invitation": "bool",
}

DEFAULT_PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
