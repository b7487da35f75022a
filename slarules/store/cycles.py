"""Cycle rows ⇄ engine `Cycle` values (the JSON columns: warnings, timeline, thresholds)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from slarules.engine.measurement import Cycle, CycleEvent, Threshold, WarningMark
from slarules.instants import parse_rfc3339, rfc3339
from slarules.store.sql import Sql
from slarules.store.times import from_db, opt_from_db

CYCLE_COLUMNS = (
    "ticket_id",
    "metric",
    "idx",
    "state",
    "started_at",
    "stopped_at",
    "due_at",
    "breached_at",
    "breach_at",
    "target",
    "elapsed",
    "remaining",
    "measured_at",
    "ruleset_version",
    "next_at",
    "warnings",
    "timeline",
    "thresholds",
    "credited_assignee",
    "credited_assignee_key",
)
CYCLE_INSERT = (
    'INSERT INTO "cycle" ('
    + ", ".join(f'"{c}"' for c in CYCLE_COLUMNS)
    + ") VALUES ("
    + ",".join("?" * len(CYCLE_COLUMNS))
    + ")"
)
CYCLE_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in CYCLE_COLUMNS) + ' FROM "cycle" '
_IX = {c: i for i, c in enumerate(CYCLE_COLUMNS)}
# the instants of the JSON columns, as `rfc3339` wrote them (cached: reads repeat them)
_instant = lru_cache(maxsize=1 << 16)(parse_rfc3339)


def cycle_json(c: Cycle) -> tuple[str, str, str]:
    """The warnings, timeline and thresholds columns of a cycle."""
    warnings = [
        {"metric": w.metric, "at": rfc3339(w.at), "percent": w.percent, "before": w.before}
        for w in c.warnings
    ]
    timeline = [{"kind": e.kind, "at": rfc3339(e.at)} for e in c.timeline]
    thresholds = [
        {
            "kind": th.kind,
            "at": rfc3339(th.at) if th.at else None,
            "reached": th.reached,
            "percent": th.percent,
            "before": th.before,
        }
        for th in c.thresholds
    ]
    return Sql.j(warnings), Sql.j(timeline), Sql.j(thresholds)


def cycle_from_row(r: Any) -> Cycle:
    """A row of `CYCLE_SELECT` → engine Cycle."""

    def col(name: str) -> Any:
        return r[_IX[name]]

    warnings = tuple(
        WarningMark(
            metric=w["metric"], at=_instant(w["at"]), percent=w["percent"], before=w["before"]
        )
        for w in Sql.unj(col("warnings"))
    )
    timeline = tuple(
        CycleEvent(kind=e["kind"], at=_instant(e["at"])) for e in Sql.unj(col("timeline"))
    )
    thresholds = tuple(
        Threshold(
            kind=th["kind"],
            at=None if th["at"] is None else _instant(th["at"]),
            reached=th["reached"],
            percent=th["percent"],
            before=th["before"],
        )
        for th in Sql.unj(col("thresholds"))
    )
    return Cycle(
        metric=col("metric"),
        index=col("idx"),
        state=col("state"),
        started_at=from_db(col("started_at")),
        stopped_at=opt_from_db(col("stopped_at")),
        due_at=opt_from_db(col("due_at")),
        breached_at=opt_from_db(col("breached_at")),
        target=col("target"),
        elapsed=col("elapsed"),
        remaining=col("remaining"),
        warnings=warnings,
        timeline=timeline,
        ruleset_version=col("ruleset_version"),
        thresholds=thresholds,
    )
