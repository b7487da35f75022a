"""The one JSON codec of an alert at the edge: the outbox payload, the webhook body, what a
listener reads back. Keys are the GraphQL `Alert` fields (camelCase, enums upper case)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from slarules.engine.alerts import Alert, AlertKind
from slarules.instants import parse_rfc3339, rfc3339


def to_json(a: Alert) -> dict[str, Any]:
    """The webhook body (and the stored payload) of an alert."""
    return {
        "id": a.id,
        "kind": a.kind.upper(),
        "ticketId": a.ticket_id,
        "metric": a.metric.upper(),
        "cycleIndex": a.cycle_index,
        "cycleStartedAt": rfc3339(a.cycle_started_at),
        "percent": a.percent,
        "beforeSeconds": a.before_seconds,
        "at": rfc3339(a.at),
        "level": a.level,
        "assignee": a.assignee,
        "department": a.department,
        "rulesetVersion": a.ruleset_version,
    }


def encode(a: Alert) -> str:
    return json.dumps(to_json(a), separators=(",", ":"), sort_keys=True)


def decode(data: str | Mapping[str, Any]) -> Alert:
    """`to_json`'s output (as text or parsed) → the Alert."""
    p: Mapping[str, Any] = json.loads(data) if isinstance(data, str) else data
    return Alert(
        id=p["id"],
        kind=cast(AlertKind, str(p["kind"]).lower()),
        ticket_id=p["ticketId"],
        metric=str(p["metric"]).lower(),
        cycle_index=int(p["cycleIndex"]),
        cycle_started_at=parse_rfc3339(p["cycleStartedAt"]),
        at=parse_rfc3339(p["at"]),
        level=p.get("level"),
        percent=p.get("percent"),
        before_seconds=p.get("beforeSeconds"),
        assignee=p.get("assignee"),
        department=p.get("department"),
        ruleset_version=p.get("rulesetVersion") or "",
    )
