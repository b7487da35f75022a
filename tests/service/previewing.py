"""A store of tickets recorded under ruleset A (tests/service/rules.py), for previews,
captures and explaining past decisions; B changes levels and targets."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from slarules.dsl import build_source
from slarules.engine.policy import Policy
from slarules.service import RawEvent, TicketService
from slarules.settings import DatabaseConfig
from slarules.store import Store
from tests.service.rules import RULES, T0

RULES_A = RULES
# "vip" tickets become urgent instead of "urgent" ones; standard resolution 8h → 2h
RULES_B = RULES.replace("resolution 8h", "resolution 2h").replace(
    'tags contains "urgent"', 'tags contains "vip"'
)
A_LIVE = T0 - timedelta(days=30)  # when A went live
B_LIVE = T0 + timedelta(days=2)  # when B went live (explain tests)
NOW = T0 + timedelta(days=3)


def policy(text: str) -> Policy:
    result = build_source(text, "rules.sla")
    assert result.policy is not None, [d.render() for d in result.diagnostics]
    return result.policy


def write_rules(tmp: Path) -> tuple[Path, Path]:
    a, b = tmp / "a.sla", tmp / "b.sla"
    a.write_text(RULES_A, "utf-8")
    b.write_text(RULES_B, "utf-8")
    return a, b


def ticket_start(i: int) -> datetime:
    return T0 + timedelta(hours=i)


def seed(
    config: DatabaseConfig, n: int = 24, *, with_b: bool = False, a_live: datetime = A_LIVE
) -> Store:
    """`n` tickets under A: tags cycle urgent / vip / none; a reply, then solved (most)."""
    store = Store.open(config)
    svc = TicketService(store, skew=10**8)
    a = policy(RULES_A)
    store.save_ruleset(a, {"rules.sla": RULES_A}, a_live)
    for i in range(n):
        t = ticket_start(i)
        tags = (["urgent"], ["vip"], [])[i % 3]
        tid = f"T{i:03}"
        fields = {"tags": tags, "requester": f"ann{i % 4}@example.com", "subject": f"help {i}"}
        if i % 5 == 0:
            fields["renewal_date"] = "2026-04-01"
        svc.record_ticket(a, {"id": tid, "created_at": t, "fields": fields}, NOW)
        events = [
            RawEvent(
                tid,
                "m1",
                {
                    "at": t + timedelta(minutes=20 * (i % 7)),
                    "type": "message",
                    "by": "agent",
                    "text": f"looking at it, {i}",
                },
            ),
            RawEvent(
                tid,
                "u1",
                {
                    "at": t + timedelta(minutes=45),
                    "type": "update",
                    "set": {"assignee": f"bob{i % 2}"},
                    "unset": [],
                },
            ),
        ]
        if i % 4 != 3:  # every fourth stays open
            events.append(
                RawEvent(
                    tid,
                    "s1",
                    {"at": t + timedelta(hours=i % 9 + 1), "type": "status", "status": "solved"},
                )
            )
        svc.record_events(a, events, NOW)
    if with_b:
        store.save_ruleset(policy(RULES_B), {"rules.sla": RULES_B}, B_LIVE)
    return store
