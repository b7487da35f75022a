"""A tiny policy and a 24×7 one-metric `measure` so service tests do not depend on the engine.

`fake_measure` follows semantics.md for what the service relies on: events
apply in order of `at` (ties in given order), only events at or before `now`
count, one `resolution` cycle that stops when the ticket is done.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slarules.engine.measurement import (
    Cycle,
    CycleEvent,
    Evaluation,
    Measurement,
    Threshold,
    WarningMark,
)
from slarules.engine.policy import (
    DEFAULT_STATUSES,
    Decision,
    Level,
    Policy,
    RuleInfo,
    Target,
)
from slarules.engine.ticket import TicketHistory
from slarules.errors import InputError

RULES = (
    RuleInfo("Tagged URGENT", "rules.sla", 3, "urgent", True),
    RuleInfo("Spam has no SLA", "rules.sla", 9, "none", True),
)


def _decide(fields: Mapping[str, Any]) -> Decision:
    tags = fields.get("tags") or ()
    if "urgent" in tags:
        return Decision("urgent", "Tagged URGENT", ("Tagged URGENT",))
    if "spam" in tags:
        return Decision(None, "Spam has no SLA", ("Spam has no SLA",))
    return Decision("standard", "default", ())


def make_policy(version: str = "fakev1") -> Policy:
    cal: Any = object()
    levels = {
        "standard": Level(
            "standard",
            cal,
            "always",
            "Standard",
            {"resolution": Target("resolution", 8 * 3600)},
            warn_percents=(50.0,),
        ),
        "urgent": Level(
            "urgent",
            cal,
            "always",
            "Urgent",
            {"resolution": Target("resolution", 3600)},
            warn_percents=(50.0,),
        ),
    }
    return Policy(
        version=version,
        files=("rules.sla",),
        timezone=ZoneInfo("America/Sao_Paulo"),
        levels=levels,
        calendars={"always": cal},
        rules=RULES,
        default_level="standard",
        statuses=dict(DEFAULT_STATUSES),
        fields={
            "status": "text",
            "priority": "priority",
            "tags": "list",
            "department": "text",
            "assignee": "text",
            "requester": "text",
            "subject": "text",
            "renewal_date": "date",
            "source": "text",
        },
        priorities=("low", "medium", "high", "critical"),
        decide_fn=_decide,
        explain_fn=_decide,
    )


def fake_validate(policy: Policy, mapping: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in mapping.items():
        kind = policy.fields.get(k)
        if kind is None:
            raise InputError("bad-value", f"unknown field `{k}`", f"{where}.{k}")
        if kind == "list":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise InputError("bad-value", f"`{k}` must be a list of text", f"{where}.{k}")
            v = tuple(v)
        elif kind == "date":
            if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d\d-\d\d", v):
                raise InputError("bad-value", f"`{k}` must be a date", f"{where}.{k}")
            v = date.fromisoformat(v)
        elif not isinstance(v, str):
            raise InputError("bad-value", f"`{k}` must be text", f"{where}.{k}")
        out[k] = v
    return out


def fake_measure(policy: Policy, history: TicketHistory, now: datetime) -> Measurement:
    fields: dict[str, Any] = dict(history.fields)
    fields["created_at"] = history.created_at
    fields["last_message_by"] = history.created_by
    d = policy.decide(fields)
    evals = [Evaluation(history.created_at, policy.version, d.matched, None, d.level, d.decided_by)]
    done_at = history.created_at if policy.category(fields.get("status")) == "done" else None
    for e in sorted(history.events, key=lambda e: e.at):
        if e.at < history.created_at:
            raise InputError("event-before-creation", "event before creation", "events")
        if e.at > now:
            break
        if e.type == "message" and e.public:
            fields["last_message_by"] = e.by
            if e.text:
                fields["last_message"] = e.text
        elif e.type == "status":
            fields["status"] = e.status
        elif e.type == "update":
            for k, v in e.set.items():
                if v in (None, "", ()):
                    fields.pop(k, None)
                else:
                    fields[k] = v
            for k in e.unset:
                fields.pop(k, None)
        if e.type in ("status", "update"):
            done = policy.category(fields.get("status")) == "done"
            done_at = (done_at or e.at) if done else None
        fields["updated_at"] = e.at
        before = d.level
        d = policy.decide(fields)
        evals.append(Evaluation(e.at, policy.version, d.matched, before, d.level, d.decided_by))
    cycles: list[Cycle] = []
    if d.level is not None:
        level = policy.levels[d.level]
        target = level.target_seconds("resolution", fields)
        if target is not None:
            start = history.created_at
            end = done_at or now
            elapsed = int((end - start).total_seconds())
            due = start + timedelta(seconds=target)
            warn_at = start + timedelta(seconds=target // 2)
            if elapsed > target:
                state = "breached"
            elif done_at is not None:
                state = "met"
            else:
                state = "active"
            timeline = [CycleEvent("started", start)]
            warnings = []
            if elapsed >= target // 2:
                warnings.append(WarningMark("resolution", warn_at, percent=50.0))
                timeline.append(CycleEvent("warned", warn_at))
            if state == "breached":
                timeline.append(CycleEvent("breached", due))
            if done_at is not None:
                timeline.append(CycleEvent("stopped", done_at))
            cycles.append(
                Cycle(
                    metric="resolution",
                    index=1,
                    state=state,
                    started_at=start,
                    stopped_at=done_at,
                    due_at=due,
                    breached_at=due if state == "breached" else None,
                    target=target,
                    elapsed=elapsed,
                    remaining=target - elapsed,
                    warnings=tuple(warnings),
                    timeline=tuple(timeline),
                    ruleset_version=policy.version,
                    thresholds=(
                        Threshold("warning", warn_at, elapsed >= target // 2, percent=50.0),
                        Threshold("breach", due, elapsed > target),
                    ),
                )
            )
    return Measurement(
        ticket_id=history.id,
        now=now,
        ruleset_version=policy.version,
        decision=d,
        fields=fields,
        done=done_at is not None,
        cycles=tuple(cycles),
        evaluations=tuple(evals),
    )


T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
