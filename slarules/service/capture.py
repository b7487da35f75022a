"""Stored tickets as fixture documents (fixtures.md), `expect` filled by the engine.

`capture(policy, stored, now)` writes the ticket's creation, every event up
to `now`, `now` itself and what the live engine computes: level, deciding
rule, every cycle of every metric (`"none"` for a metric without cycles)
and every warning. A fixture so written passes `slarules test` by
construction, which `verify` checks by reading it back.

`anonymize` replaces requester, assignee, subject, message texts and
free-text custom fields with stable pseudonyms (the same value gives the
same pseudonym in every ticket and run) and keeps a value wherever the
pseudonym would change a verdict: each field is tried alone on top of the
ones already replaced, and the ticket is re-measured (level, rule, cycles,
warnings must be equal).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slarules.engine.explain import format_duration
from slarules.engine.measurement import Cycle, Measurement
from slarules.engine.policy import METRICS, Policy
from slarules.fixtures import compare, parse_fixture
from slarules.instants import rfc3339
from slarules.service.preview import measure_at
from slarules.service.recording import history_of
from slarules.store import codec
from slarules.store.rows import EventRow, TicketHead

# text fields that name people or carry free text (built-in); custom `text` fields too
PERSONAL = ("requester", "assignee", "subject", "last_message")
_NOT_FREE_TEXT = frozenset(
    {"source", "status", "department", "customer_group", "agent_status", "referrer"}
)


def _cycle(c: Cycle) -> dict[str, Any]:
    out: dict[str, Any] = {
        "state": c.state,
        "elapsed": format_duration(c.elapsed),
        "remaining": format_duration(c.remaining),
        "target": format_duration(c.target),
        "started_at": rfc3339(c.started_at),
    }
    for k in ("stopped_at", "due_at", "breached_at"):
        v = getattr(c, k)
        out[k] = "none" if v is None else rfc3339(v)
    return out


def expect_of(m: Measurement) -> dict[str, Any]:
    """Everything the engine computed, as an `expect` table."""
    out: dict[str, Any] = {"level": m.level or "none", "rule": m.decision.decided_by or "none"}
    warnings = []
    for w in m.warnings:
        item: dict[str, Any] = {"metric": w.metric}
        if w.percent is not None:
            item["percent"] = w.percent
        else:
            item["before"] = format_duration(w.before or 0)
        item["at"] = rfc3339(w.at)
        warnings.append(item)
    out["warnings"] = warnings
    for metric in METRICS:
        cycles = m.cycles_of(metric)
        out[metric] = [_cycle(c) for c in cycles] if cycles else "none"
    return out


def _event(r: EventRow) -> dict[str, Any]:
    out: dict[str, Any] = {"at": rfc3339(r.at), "type": r.type}
    if r.type == "update":
        out["set"] = codec.to_public(codec.decode_fields(r.payload.get("set", {})))
        out["unset"] = list(r.payload.get("unset", ()))
    else:
        out.update({k: v for k, v in r.payload.items() if v is not None})
    return out


@dataclass(frozen=True, slots=True)
class Captured:
    """A fixture document; `kept`: fields anonymizing left as they are, and why."""

    ticket_id: str
    doc: dict[str, Any]
    left_out: int = 0  # events after `now`, not written
    kept: tuple[str, ...] = ()


def capture(
    policy: Policy, head: TicketHead, events: Sequence[EventRow], now: datetime
) -> Captured:
    """The fixture document of one stored ticket as of `now`."""
    now = max(now, head.created_at)
    kept = [r for r in events if r.at <= now]
    m = measure_at(policy, history_of(head, kept), now)
    ticket: dict[str, Any] = {
        "id": head.id,
        "created_at": rfc3339(head.created_at),
        "created_by": head.created_by,
        **codec.to_public(dict(head.initial_fields)),
    }
    doc = {
        "name": f"captured ticket {head.id} as of {rfc3339(now)}",
        "now": rfc3339(now),
        "ticket": ticket,
        "events": [_event(r) for r in kept],
        "expect": expect_of(m),
    }
    return Captured(head.id, doc, len(events) - len(kept))


def verify(policy: Policy, doc: Mapping[str, Any], path: str = "<capture>") -> list[str]:
    """The differences `slarules test` would report on this document (empty: it passes)."""
    fx = parse_fixture(doc, policy, path)
    m = measure_at(policy, fx.history, fx.now)
    return [d.render() for d in compare(fx.expect, m, policy.timezone)]


# -- anonymizing -----------------------------------------------------------------------------


def pseudonym(kind: str, value: str, salt: str = "") -> str:
    """A stable stand-in: `requester-3f2a9c1d` (the same value, the same pseudonym)."""
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=4, key=salt.encode()[:64])
    return f"{kind}-{digest.hexdigest()}"


def free_text_fields(policy: Policy) -> list[str]:
    """The fields anonymizing replaces: people, subject and custom free text."""
    out = [f for f in PERSONAL if f in policy.fields]
    out += [
        f
        for f, kind in policy.fields.items()
        if kind == "text" and f not in _NOT_FREE_TEXT and f not in out and f != "last_message_by"
    ]
    return out


def _replace(doc: dict[str, Any], key: str, salt: str) -> bool:
    """Replace every value of `key` (a field name, or `message text`) in place."""
    hit = False
    if key == "message text":
        for e in doc["events"]:
            if e["type"] == "message" and isinstance(e.get("text"), str):
                e["text"] = pseudonym("text", e["text"], salt)
                hit = True
        return hit
    tables = [doc["ticket"]] + [e["set"] for e in doc["events"] if e["type"] == "update"]
    for t in tables:
        v = t.get(key)
        if isinstance(v, str) and v:
            t[key] = pseudonym(key, v, salt)
            hit = True
    return hit


def anonymize(policy: Policy, captured: Captured, salt: str = "") -> Captured:
    """The same ticket with pseudonyms wherever they keep every verdict (checked)."""
    doc = copy.deepcopy(captured.doc)
    kept: list[str] = []
    for key in [*free_text_fields(policy), "message text"]:
        trial = copy.deepcopy(doc)
        if not _replace(trial, key, salt):
            continue
        if verify(policy, trial):
            kept.append(key)  # a rule or a pause reads it: the pseudonym would change a verdict
        else:
            doc = trial
    return Captured(captured.ticket_id, doc, captured.left_out, tuple(kept))
