"""A randomized store for the report tests: a DST change in the ruleset's zone, case-folded
departments and assignees, tickets at their exact breach instant, and the Python oracle."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slarules.dsl import build_source
from slarules.engine.policy import Policy, fold
from slarules.engine.reports import LogRow, log_row
from slarules.service import LogFilter, RawEvent, TicketFilter, TicketService

RULES = """\
timezone "America/New_York"

schema {
  priorities low < medium < high < critical
}

level standard {
  title "Standard"
  first_response 2h
  next_response 1h
  resolution 8h
  warn at 50%
}

level urgent {
  title "Urgent"
  first_response 30m
  resolution 1h
}

default level standard

rule "Tagged URGENT" {
  when tags contains "urgent"
  set level urgent
  stop
}

rule "Spam has no SLA" {
  when tags contains "spam"
  set level none
  stop
}
"""

# New York springs forward on 2026-03-08 at 02:00 local (07:00 UTC): a 23-hour day
START = datetime(2026, 3, 6, 5, 0, tzinfo=UTC)  # 2026-03-06 00:00 local
DEPARTMENTS = ["Billing", "billing", "BILLING", "Straße", "STRASSE", "Support", None]
ASSIGNEES = ["Ana", "ana", "ANA", "Bo", "Ǆemal", "ǆemal", None]
PRIORITIES = ["low", "medium", "high", "critical"]
SOURCES = ["email", "chat", "phone"]


def make_policy() -> Policy:
    result = build_source(RULES, "rules.sla")
    assert result.policy is not None, [d.render() for d in result.diagnostics]
    return replace(result.policy, version="reports-v1")


@dataclass
class Seeded:
    service: TicketService
    policy: Policy
    ids: list[str]
    now: datetime  # exactly the breach instant of the `X*` tickets
    cache: list[tuple[LogRow, dict[str, Any]]] | None = None


def seed(service: TicketService, seed_: int, n: int = 40) -> Seeded:
    rng = random.Random(seed_)
    policy = make_policy()
    ids: list[str] = []
    last = START
    for i in range(n):
        tid = f"T{i:03}-{rng.choice('abAB')}"
        created = START + timedelta(minutes=rng.randrange(0, 5 * 24 * 60))
        tags = ["urgent"] if rng.random() < 0.3 else ["spam"] if rng.random() < 0.1 else []
        fields: dict[str, Any] = {
            "status": "new",
            "tags": tags,
            "priority": rng.choice(PRIORITIES),
            "source": rng.choice(SOURCES),
        }
        for key, values in (("department", DEPARTMENTS), ("assignee", ASSIGNEES)):
            v = rng.choice(values)
            if v is not None:
                fields[key] = v
        raw = {"id": tid, "created_at": created, "fields": fields}
        service.record_ticket(policy, raw, created)
        ids.append(tid)
        t, events = created, []
        for k in range(rng.randrange(0, 6)):
            t += timedelta(minutes=rng.randrange(5, 400))
            kind = rng.random()
            if kind < 0.4:
                ev = {"type": "message", "by": rng.choice(["agent", "customer"])}
            elif kind < 0.6:
                ev = {"type": "status", "status": rng.choice(["open", "pending"])}
            elif kind < 0.7:
                ev = {"type": "update", "set": {"department": rng.choice(DEPARTMENTS[:-1])}}
            else:
                ev = {"type": "status", "status": "solved"}
            events.append(RawEvent(tid, f"{tid}-{k}", {"at": t, **ev}))
        if events:
            service.record_events(policy, events, t)
        last = max(last, t)
    # two urgent tickets whose resolution breaches exactly at `now`, one a second later
    base = last + timedelta(hours=1)
    for tid, extra in (("X-1", 0), ("X-2", 0), ("X-3", 1)):
        raw = {
            "id": tid,
            "created_at": base + timedelta(seconds=extra),
            "fields": {"status": "new", "tags": ["urgent"], "department": "billing"},
        }
        service.record_ticket(policy, raw, base)
        ids.append(tid)
    return Seeded(service, policy, ids, base + timedelta(hours=1))


def oracle_rows(s: Seeded) -> list[tuple[LogRow, dict[str, Any]]]:
    """Every SLA-log row as of `now`, measured by the engine (with the ticket's fields)."""
    if s.cache is not None:
        return s.cache
    views = s.service.views(s.policy, s.ids, s.now)
    out = []
    for v in views.values():
        if v.level is None:
            continue
        for c in v.cycles:
            out.append((log_row(v.id, v.level, c, v.fields), dict(v.fields)))
    s.cache = out
    return out


def matches(row: LogRow, fields: dict[str, Any], f: LogFilter) -> bool:
    for key in ("department", "assignee"):
        want = getattr(f, key)
        if want is not None and (
            getattr(row, key) is None or fold(getattr(row, key)) != fold(want)
        ):
            return False
    if f.level is not None and row.level != f.level:
        return False
    if f.metric is not None and row.metric != f.metric:
        return False
    if f.state is not None and row.state != f.state:
        return False
    if f.started_from is not None and row.started_at < f.started_from:
        return False
    if f.started_to is not None and row.started_at >= f.started_to:
        return False
    return all(
        getattr(f, k) is None or fields.get(k) == getattr(f, k) for k in ("priority", "source")
    )


def random_log_filter(rng: random.Random) -> LogFilter:
    def maybe(values: list[Any]) -> Any:
        return rng.choice(values) if rng.random() < 0.3 else None

    return LogFilter(
        department=maybe([d for d in DEPARTMENTS if d] + ["straße"]),
        assignee=maybe([a for a in ASSIGNEES if a]),
        level=maybe(["standard", "urgent"]),
        metric=maybe(["first_response", "next_response", "resolution"]),
        state=maybe(["active", "paused", "met", "breached"]),
        started_from=maybe([START + timedelta(days=2), START + timedelta(hours=50)]),
        started_to=maybe([START + timedelta(days=3, hours=5)]),
        priority=maybe(PRIORITIES),
        source=maybe(SOURCES),
    )


def ticket_matches(v: Any, f: TicketFilter, now: datetime) -> bool:
    """Ticket-level semantics of the filter, from a view (the oracle of `tickets`)."""
    fields = v.fields
    if f.has_sla is not None and (v.level is not None) != f.has_sla:
        return False
    if f.level is not None and (v.level is not None if f.level == "none" else v.level != f.level):
        return False
    for key in ("department", "assignee"):
        want = getattr(f, key)
        got = fields.get(key)
        if want is not None and (not isinstance(got, str) or fold(got) != fold(want)):
            return False
    for key in ("priority", "source"):
        if getattr(f, key) is not None and fields.get(key) != getattr(f, key):
            return False
    if f.state is None and f.metric is None:
        return True
    # open tickets are measured at `now`: their cycles' states are the engine's as of now
    return any(
        (f.metric is None or c.metric == f.metric) and (f.state is None or c.state == f.state)
        for c in v.cycles
    )


__all__ = ["Seeded", "matches", "oracle_rows", "random_log_filter", "seed", "ticket_matches"]
