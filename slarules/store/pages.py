"""What a list page reads of its tickets (`TicketRepository`'s reads for views): heads and
checkpoints in one statement, stored rows, and of a ticket whose running cycles are
projected only its stopped cycles, without the JSON columns unless a page shows them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from slarules.engine.measurement import Cycle
from slarules.engine.policy import cycle_order
from slarules.store import codec
from slarules.store.cycles import CYCLE_SELECT, FIGURE_SELECT, cycle_from_row, figures_of_row
from slarules.store.rows import CheckpointRow, Mark, StoredTicket, TicketHead, mark_of
from slarules.store.sql import Sql, chunks
from slarules.store.times import from_db, opt_from_db

__all__ = ["PageReads"]

_decode = json.JSONDecoder().decode


@lru_cache(maxsize=1 << 11)  # a page's worth of open tickets, many times over
def _state_of(text: str) -> Mapping[str, Any]:
    """A checkpoint's stored JSON, decoded once per text: equal texts are equal states, and
    a checkpoint changes only with its ticket's events, so list pages meet the same texts
    again. Shared by every read of the text, so it is read-only (its readers,
    `checkpoints.from_plain`, copy what they keep)."""
    return MappingProxyType(_decode(text))


_STOPPED_KEPT = 4096  # stopped cycles of this many open tickets kept per store


class PageReads:
    """The page reads of the ticket repository (`self.sql`: its SQL helper)."""

    sql: Sql
    # the stopped cycles of open tickets by (ticket, change mark, detail): immutable `Cycle`s,
    # read again once the mark moves (an event, a measuring, a reload); one per store
    _stopped: dict[tuple[str, Mark, bool], tuple[Cycle, ...]]

    def heads_and_checkpoints(
        self, cur: Any, ids: Iterable[str]
    ) -> tuple[dict[str, TicketHead], dict[str, CheckpointRow]]:
        """`heads(ids)` without the fields the tickets were created with (`initial_fields`
        empty: for a reader that does not replay them), and the checkpoints of the open
        ones among them (`checkpoints`), in one statement: what a list page reads first.
        A checkpoint's `state` is decoded once per stored text and shared by the reads
        that meet the same text (`_state_of`: read-only)."""
        s = self.sql
        heads: dict[str, TicketHead] = {}
        points: dict[str, CheckpointRow] = {}
        state = 'p."state"::text' if s.pg else 'p."state"'  # the text: the key of its decoding
        for part in chunks(sorted(set(ids))):
            s.execute(
                cur,
                'SELECT t."id", t."created_at", t."created_by", t."done", t."measured_at", '
                'p."ruleset_version", p."engine_version", p."last_at", p."evaluations", '
                f'{state} FROM "ticket" t LEFT JOIN "checkpoint" p '
                'ON p."ticket_id" = t."id" AND NOT t."done" '
                f'WHERE t."id" IN ({s.marks(len(part))}) ORDER BY t."id"',
                part,
            )
            for r in cur.fetchall():
                t = r[0]
                heads[t] = TicketHead(t, from_db(r[1]), r[2], {}, bool(r[3]), opt_from_db(r[4]))
                if r[5] is not None:
                    v = r[9]
                    got = _state_of(v) if isinstance(v, str) else Sql.unj(v)
                    points[t] = CheckpointRow(t, r[5], r[6], from_db(r[7]), r[8], got)
        return heads, points

    def stored(
        self,
        cur: Any,
        heads: Sequence[TicketHead],
        stopped_only: Mapping[str, CheckpointRow] | None = None,
        detail: bool = True,
    ) -> dict[str, StoredTicket]:
        """The rows of these tickets as last measured (done tickets are read, not measured).
        Of the tickets in `stopped_only` (their checkpoints, read with `heads`: a view
        projects their running cycles from the checkpoint, which also gives their fields and
        level), only the stopped cycles are read and not the ticket row: their `fields` are
        empty, `level`, `decided_by` None and `ruleset_version` "". Those stopped cycles
        are kept per ticket and change mark (`rows.mark_of`): a page shown again reads
        only the tickets that changed. `detail=False`: the cycles without warnings,
        timeline and thresholds (their JSON columns are not read)."""
        s = self.sql
        out: dict[str, StoredTicket] = {}
        points = stopped_only or {}
        cache = self._stopped
        full = [h for h in heads if h.id not in points]
        cycles = self._cycles(cur, [h.id for h in full], detail, stopped=False)
        missing: dict[str, tuple[str, Mark, bool]] = {}
        for h in heads:
            p = points.get(h.id)
            if p is None:
                continue
            key = (h.id, mark_of(p, h), detail)
            kept = cache.get(key)
            out[h.id] = StoredTicket(h, {}, None, None, "", () if kept is None else kept)
            if kept is None:
                missing[h.id] = key
        if missing:
            if len(cache) + len(missing) > _STOPPED_KEPT:
                cache.clear()
            stopped = self._cycles(cur, list(missing), detail, stopped=True)
            for t, got in stopped.items():
                kept = cache[missing[t]] = tuple(got)
                out[t] = out[t]._replace(cycles=kept)
        by_id = {h.id: h for h in full}
        for part in chunks(list(by_id)):
            s.execute(
                cur,
                'SELECT "id", "fields", "level", "decided_by", "ruleset_version" FROM "ticket" '
                f'WHERE "id" IN ({s.marks(len(part))})',
                part,
            )
            for r in cur.fetchall():
                out[r[0]] = StoredTicket(
                    by_id[r[0]],
                    codec.decode_fields(Sql.unj(r[1])),
                    r[2],
                    r[3],
                    r[4],
                    tuple(cycles[r[0]]),
                )
        return out

    def _cycles(
        self, cur: Any, ids: Sequence[str], detail: bool, stopped: bool
    ) -> dict[str, list[Cycle]]:
        """The cycle rows of these tickets in a measurement's order (`cycle_order`: rows are
        rewritten in place, so not in write order), or with `stopped` only the stopped
        ones, in no particular order (a view of a projected ticket sorts its cycles);
        `detail=False`: without the JSON columns."""
        s = self.sql
        out: dict[str, list[Cycle]] = {t: [] for t in ids}
        select = CYCLE_SELECT if detail else FIGURE_SELECT
        rest = ' AND "stopped_at" IS NOT NULL' if stopped else ' ORDER BY "ticket_id", "id"'
        for part in chunks(list(ids)):
            s.execute(cur, select + f'WHERE "ticket_id" IN ({s.marks(len(part))}){rest}', part)
            if detail:
                for r in cur.fetchall():
                    out[r[0]].append(cycle_from_row(r))
            else:
                for r in cur.fetchall():
                    out[r[0]].append(figures_of_row(r))
        if not stopped:
            for got in out.values():
                got.sort(key=lambda c: cycle_order(c.metric, c.index))
        return out
