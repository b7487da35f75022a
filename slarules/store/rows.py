"""Named rows the repositories read and write (no positional `r[15]` past this module)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from slarules.engine.measurement import Cycle, Evaluation, Measurement


class TicketHead(NamedTuple):
    """What a ticket was created with, and whether it is done (the ticket row)."""

    id: str
    created_at: datetime
    created_by: str
    initial_fields: dict[str, Any]  # typed values (store/codec.py)
    done: bool
    measured_at: datetime | None


class EventRow(NamedTuple):
    """One stored event: its idempotency key, instant, type and stored payload."""

    event_id: str
    at: datetime
    type: str
    payload: Mapping[str, Any]


class StoredTicket(NamedTuple):
    """A ticket's row as last measured: what a done ticket shows without re-measuring."""

    head: TicketHead
    fields: dict[str, Any]
    level: str | None
    decided_by: str | None
    ruleset_version: str
    cycles: tuple[Cycle, ...]


class Derived(NamedTuple):
    """What one measurement writes: the rows and the instants the service derived from it."""

    measurement: Measurement
    breach_at: tuple[datetime | None, ...]  # per cycle
    cycle_next_at: tuple[datetime | None, ...]  # per cycle
    due_key: datetime | None
    next_at: datetime | None
    new_evaluations: tuple[Evaluation, ...]  # appended to the log
    keys: Mapping[str, str | None]  # folded text of the filter columns
    credited: tuple[str | None, ...]  # per cycle: the assignee credited (engine/credit.py)
    # True: `measurement.cycles` holds only the cycles that changed (upserted by metric and
    # index); the others stand as stored. False: they are all of the ticket's cycles.
    partial: bool = False


class CheckpointRow(NamedTuple):
    """A ticket's engine state after its last event (`engine.fold`), as stored JSON."""

    ticket_id: str
    ruleset_version: str
    engine_version: str
    last_at: datetime
    evaluations: int  # length of the ticket's evaluation log when it was saved
    state: Mapping[str, Any]


# What changes whenever a ticket's stored rows do: its checkpoint's version, log length and
# last event instant, and its last measuring instant. Every write of a ticket's cycles
# writes a new measuring instant (or, with an event, a new checkpoint), so rows read under
# one mark stand for as long as the ticket shows it.
Mark = tuple[str, int, datetime, datetime | None]


def mark_of(point: CheckpointRow, head: TicketHead) -> Mark:
    """The change mark of an open ticket with a checkpoint (`Mark`)."""
    return (point.ruleset_version, point.evaluations, point.last_at, head.measured_at)
