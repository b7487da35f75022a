"""Stable alert ids: one per (ticket, metric, cycle start, kind, threshold)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime


def threshold_key(kind: str, percent: float | None, before: int | None) -> str:
    """`breach`, `warning:p80` or `warning:b900` (a `warn before` in seconds)."""
    if kind == "breach":
        return "breach"
    if percent is not None:
        return f"warning:p{percent:g}"
    return f"warning:b{before}"


def alert_id(
    ticket_id: str,
    metric: str,
    cycle_started_at: datetime,
    kind: str,
    percent: float | None = None,
    before: int | None = None,
) -> str:
    """A short, stable, collision-resistant id; the same inputs always give the same id."""
    if cycle_started_at.tzinfo is None:
        raise ValueError("cycle_started_at must be timezone-aware")
    started = cycle_started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    key = "\x1f".join((ticket_id, metric, started, threshold_key(kind, percent, before)))
    return hashlib.sha256(key.encode()).hexdigest()[:24]
