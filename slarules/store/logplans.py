"""Which plan reads a page of the SLA log (issue 18).

SQLite has no value histograms, so a bounded count says which index drives the page:

- `COLLECT`: few matches, collected through the filter's index and sorted;
- `LIST`: walk the sort index, each cycle's ticket id tested against the list of the
  tickets that meet the ticket conditions (built once from their index, which carries the
  id: migration 0008), for a few thousand such tickets;
- `WALK`: walk the sort index, the ticket conditions asked of each cycle's ticket row by
  id (a correlated `EXISTS`; the list would cost more to build than it saves);
- `RUNNING`: a page of ACTIVE or PAUSED cycles by start walks the partial index of the
  running cycles (migration 0009) in order: no count, the walk is bounded by the open
  tickets' running cycles and stops after its page.

PostgreSQL plans by its statistics, but for a page of tickets that meet conditions on an
indexed ticket column (an assignee, a department, a level) it walks the sort index and
probes each cycle's ticket by id (a memoized nested loop: 1,017 probes for agent7's
2,307 tickets, 10.4 ms bare). `HASHED` tests each cycle's ticket id against the set of
the matching ids instead, built once from the column's index, which carries the id
(migration 0008): 4.2 ms. It pays the set's build (~0.2 µs an id) to save ~2 µs a walked
cycle, and a page walks about 101 × tickets / matches of them: it is chosen from the
planner's own estimate of the matches (`EXPLAIN`, no count) between `2.6√N` (fewer: the
planner collects and sorts them) and `20√N` (more: the build costs more than it saves) of
`N` tickets (in the app at a year of tickets: agent7's 2,307 tickets 0.72x, agent1's 4,820
0.97x, level urgent's 8,362 1.05x: no longer worth it).

Plans are performance choices only: each reads the same rows in the same order.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from slarules.store.filters import Where
from slarules.store.sql import Sql

__all__ = [
    "COLLECT",
    "HASHED",
    "LIST",
    "LIST_TICKETS",
    "LOG_DENSE",
    "RUNNING",
    "RUNNING_INDEX",
    "RUNNING_STATES",
    "WALK",
    "Plan",
    "TicketEstimate",
    "hashed_ids",
    "hashes_well",
    "log_plan",
    "pg_log_plan",
]

Plan = Literal["collect", "list", "walk", "running", "hashed"]
COLLECT: Plan = "collect"
LIST: Plan = "list"
WALK: Plan = "walk"
RUNNING: Plan = "running"
HASHED: Plan = "hashed"

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


# PostgreSQL: the ticket columns whose index carries the id (migration 0008)
_ID_INDEXED = re.compile(r'^t\."(level|department_key|assignee_key)" = \?$')


class TicketEstimate:
    """PostgreSQL: about how many tickets the store has (the planner's figure, `reltuples`),
    read again every 1,000 asks."""

    def __init__(self) -> None:
        self._left, self._n = 0, 0.0

    def of(self, sql: Sql) -> float:
        if self._left <= 0:
            with sql.read() as cur:
                sql.execute(
                    cur, "SELECT reltuples FROM pg_class WHERE oid = '\"ticket\"'::regclass"
                )
                self._n = max(float(cur.fetchone()[0]), 0.0)  # -1: never analyzed
            self._left = 1000
        self._left -= 1
        return self._n


def pg_log_plan(sql: Sql, w: Where, estimate: TicketEstimate) -> Plan:
    """PostgreSQL: `HASHED` for a page whose conditions are all equalities on ticket
    columns indexed with the id, matching between 2.6√N and 20√N of the N tickets, by the
    planner's estimates; otherwise `WALK` (the planner's own plan)."""
    if not w.parts or not all(_ID_INDEXED.match(p) for p in w.parts):
        return WALK
    tickets = estimate.of(sql)
    if tickets <= 0:
        return WALK
    text = f'EXPLAIN (FORMAT JSON) SELECT 1 FROM "ticket" t{w.sql()}'
    with sql.read() as cur:
        sql.execute(cur, text, w.params)
        (plan,) = Sql.unj(cur.fetchone()[0])  # the plan as JSON text
    return HASHED if hashes_well(float(plan["Plan"]["Plan Rows"]), tickets) else WALK


def hashes_well(matches: float, tickets: float) -> bool:
    """`HASHED` pays for `matches` of `tickets`: between 2.6√N and 20√N (module doc)."""
    root = math.sqrt(tickets)
    return 2.6 * root < matches < 20 * root


def hashed_ids(w: Where) -> Where:
    """`HASHED`: the ticket conditions as one test of the cycle's ticket id against the
    matching ids. `IS TRUE` keeps the planner from turning the `IN` into a join (which it
    walks with a probe per cycle): the subquery runs once, into a hashed set."""
    conds = " AND ".join(p.replace('t."', 't2."') for p in w.parts)
    return Where(
        [f'(c."ticket_id" IN (SELECT t2."id" FROM "ticket" t2 WHERE {conds})) IS TRUE'],
        list(w.params),
    )
