"""Pony entities, defined on a fresh `Database` by `define_entities` (one per store).

Tables are created by the versioned SQL in `migrations/` (Pony has no
migrations); `generate_mapping(check_tables=True)` then checks that they fit.
Every datetime column holds NAIVE UTC (store/times.py converts at the edge).
Events are the source of truth; `cycle`, `evaluation` and the ticket's
derived columns are rebuilt from them on every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pony.orm import Database, Json, Optional, PrimaryKey, Required, Set, composite_index


@dataclass(frozen=True)
class Entities:
    db: Database
    Ticket: Any
    Event: Any
    Cycle: Any
    Evaluation: Any
    Ruleset: Any
    Alert: Any


def define_entities(db: Database) -> Entities:
    """Define every entity on `db` (call once per Database, before binding)."""

    class Ticket(db.Entity):  # type: ignore[misc]
        _table_ = "ticket"
        id = PrimaryKey(str)
        created_at = Required(datetime, column="created_at")
        created_by = Required(str)
        initial_fields = Required(Json)
        fields = Required(Json)  # current fields, typed-JSON (store/codec.py)
        level = Optional(str, nullable=True)
        decided_by = Optional(str, nullable=True)
        requester = Optional(str, nullable=True)
        department = Optional(str, nullable=True)
        assignee = Optional(str, nullable=True)
        # case-folded twins (engine.policy.fold): what filters and groups compare
        requester_key = Optional(str, nullable=True, index="ix_ticket_requester_key")
        department_key = Optional(str, nullable=True, index="ix_ticket_department_key")
        assignee_key = Optional(str, nullable=True, index="ix_ticket_assignee_key")
        done = Required(bool)
        ruleset_version = Required(str)
        measured_at = Required(datetime)
        # earliest due_at of a running cycle; far future when none (a non-null sort key)
        due_key = Required(datetime)
        # earliest not-yet-reached alert threshold or future event: when to look again
        next_at = Optional(datetime, nullable=True, index="ix_ticket_next_at")
        events = Set("Event")
        cycles = Set("Cycle")
        evaluations = Set("Evaluation")
        composite_index(due_key, id)

    class Event(db.Entity):  # type: ignore[misc]
        _table_ = "event"
        id = PrimaryKey(int, auto=True)  # arrival order: ties on `at` keep it
        ticket = Required(Ticket, column="ticket_id")
        event_id = Required(str)
        at = Required(datetime)
        type = Required(str)
        payload = Required(Json)
        recorded_at = Required(datetime)
        composite_index(ticket, event_id)  # unique in SQL (migrations)

    class Cycle(db.Entity):  # type: ignore[misc]
        _table_ = "cycle"
        id = PrimaryKey(int, auto=True)
        ticket = Required(Ticket, column="ticket_id")
        metric = Required(str)
        idx = Required(int)
        state = Required(str)  # as of measured_at; active + due_at <= now reads as breached
        started_at = Required(datetime)
        stopped_at = Optional(datetime, nullable=True)
        due_at = Optional(datetime, nullable=True)
        breached_at = Optional(datetime, nullable=True)
        # the instant the cycle becomes breached if nothing changes (active cycles)
        breach_at = Optional(datetime, nullable=True)
        target = Required(int)
        elapsed = Required(int)
        remaining = Required(int)
        measured_at = Required(datetime)
        ruleset_version = Required(str)
        next_at = Optional(datetime, nullable=True)  # earliest not-yet-reached threshold
        warnings = Required(Json)
        timeline = Required(Json)
        thresholds = Required(Json)

    class Evaluation(db.Entity):  # type: ignore[misc]
        _table_ = "evaluation"
        id = PrimaryKey(int, auto=True)
        ticket = Required(Ticket, column="ticket_id")
        seq = Required(int)
        at = Required(datetime)
        ruleset_version = Required(str)
        matched = Required(Json)
        level_before = Optional(str, nullable=True)
        level_after = Optional(str, nullable=True)
        decided_by = Optional(str, nullable=True)
        note = Optional(str, nullable=True)

    class Ruleset(db.Entity):  # type: ignore[misc]
        _table_ = "ruleset"
        version = PrimaryKey(str)
        loaded_at = Required(datetime)
        files = Required(Json)
        sources = Required(Json)  # {file name: text}

    class Alert(db.Entity):  # type: ignore[misc]
        """The alert outbox (filled by the scheduler of issue 6)."""

        _table_ = "alert"
        id = PrimaryKey(str)  # hash of (ticket, metric, cycle start, kind, threshold)
        ticket_id = Required(str)
        metric = Required(str)
        cycle_index = Required(int)
        cycle_started_at = Required(datetime)
        kind = Required(str)  # warning | breach
        percent = Optional(float, nullable=True)
        before_seconds = Optional(int, nullable=True)
        due_at = Required(datetime)
        status = Required(str)  # pending | claimed | delivered | cancelled | failed
        attempts = Required(int)
        next_attempt_at = Optional(datetime, nullable=True)
        claimed_by = Optional(str, nullable=True)
        delivered_at = Optional(datetime, nullable=True)
        created_at = Required(datetime)
        payload = Required(Json)

    return Entities(db, Ticket, Event, Cycle, Evaluation, Ruleset, Alert)
