"""SQLite: which plan reads a page of the SLA log (issue 18). SQLite has no value
histograms, so a bounded count says which index drives the page:

- `COLLECT`: few matches, collected through the filter's index and sorted;
- `LIST`: walk the sort index, each cycle's ticket id tested against the list of the
  tickets that meet the ticket conditions (built once from their index, which carries the
  id: migration 0008), for a few thousand such tickets;
- `WALK`: walk the sort index, the ticket conditions asked of each cycle's ticket row by
  id (a correlated `EXISTS`; the list would cost more to build than it saves);
- `RUNNING`: a page of ACTIVE or PAUSED cycles by start walks the partial index of the
  running cycles (migration 0009) in order: no count, the walk is bounded by the open
  tickets' running cycles and stops after its page.

Plans are performance choices only: each reads the same rows in the same order.
"""

from __future__ import annotations

from typing import Literal

from slarules.store.filters import Where
from slarules.store.sql import Sql

__all__ = [
    "COLLECT",
    "LIST",
    "LIST_TICKETS",
    "LOG_DENSE",
    "RUNNING",
    "RUNNING_INDEX",
    "RUNNING_STATES",
    "WALK",
    "Plan",
    "log_plan",
]

Plan = Literal["collect", "list", "walk", "running"]
COLLECT: Plan = "collect"
LIST: Plan = "list"
WALK: Plan = "walk"
RUNNING: Plan = "running"

RUNNING_STATES = frozenset({"active", "paused"})
# the partial index's own condition: a query holds this very term, or SQLite cannot use it
RUNNING_INDEX = (
    ' INDEXED BY "ix_cycle_running_started"',
    "c.\"state\" IN ('active', 'paused')",
)

LOG_DENSE = 5_000  # at most this many matching cycles: collect and sort them
CYCLES_PER_TICKET = 10  # about, at a year of tickets: ticket matches → cycle matches
# at most this many tickets meet the ticket conditions: walk with their id list. Its build
# costs ~0.2 µs a ticket, a test ~0.3 µs a scanned cycle against ~1.3 µs for the EXISTS; at
# 100,000 tickets the two cost the same near 7,000 matches (2,307: 1.4 against 4.7 ms)
LIST_TICKETS = 5_000


def ticket_only(w: Where) -> bool:
    """Every condition is on the ticket row (none on the cycle's)."""
    return bool(w.parts) and all('t."' in p and 'c."' not in p for p in w.parts)


def log_plan(sql: Sql, w: Where) -> Plan:
    """The plan of a log page with conditions `w` (on `c` the cycle, `t` its ticket)."""
    if ticket_only(w):
        # count the tickets in their own index, not their joined cycles
        bound = max(LOG_DENSE // CYCLES_PER_TICKET, LIST_TICKETS)
        text = f'SELECT COUNT(*) FROM (SELECT 1 FROM "ticket" t{w.sql()} LIMIT ?) x'
        with sql.read() as cur:
            sql.execute(cur, text, [*w.params, bound + 1])
            n = int(cur.fetchone()[0])
        if n <= LOG_DENSE // CYCLES_PER_TICKET:
            return COLLECT
        return LIST if n <= LIST_TICKETS else WALK
    where = w.sql()
    # without a ticket condition, the cycles alone (an estimate: the join drops no row of
    # a stored ticket's cycles)
    join = ' JOIN "ticket" t ON t."id" = c."ticket_id"' if 't."' in where else ""
    text = f'SELECT COUNT(*) FROM (SELECT 1 FROM "cycle" c{join}{where} LIMIT ?) x'
    with sql.read() as cur:
        sql.execute(cur, text, [*w.params, LOG_DENSE + 1])
        return COLLECT if int(cur.fetchone()[0]) <= LOG_DENSE else WALK
