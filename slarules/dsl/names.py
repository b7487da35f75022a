"""Fixed vocabulary of the language: keywords, built-in fields, days, and name hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from slarules.engine.policy import METRICS

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


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """`did you mean `x`?` for the closest candidates (case-insensitive), or None."""
    pool = list(dict.fromkeys(candidates))
    exact = [c for c in pool if c.casefold() == word.casefold() and c != word]
    close = exact or difflib.get_close_matches(word, pool, n=3, cutoff=0.6)
    if not close:
        lowered = {c.casefold(): c for c in pool}
        close = [
            lowered[c]
            for c in difflib.get_close_matches(word.casefold(), list(lowered), n=3, cutoff=0.6)
        ]
    if not close:
        return None
    quoted = [f"`{c}`" for c in close]
    if len(quoted) == 1:
        return f"did you mean {quoted[0]}?"
    return f"did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"
