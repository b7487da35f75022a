"""Engine objects → GraphQL types, in one place (a test checks the mapping stays complete)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import strawberry

from slarules.engine import measurement as m
from slarules.engine import policy as p
from slarules.engine import reports
from slarules.engine.alerts import Alert
from slarules.errors import Diagnostic as EngineDiagnostic
from slarules.graphql import input_types as gi
from slarules.graphql import types as g
from slarules.graphql.sources import CycleSource
from slarules.service.agents import AssigneeSummary
from slarules.store.codec import to_public

_METRIC = {e.value: e for e in gi.Metric}  # engine names → enum members (a dict look-up)
_STATE = {e.value: e for e in gi.CycleState}


def public_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Typed field values as JSON (dates YYYY-MM-DD, date-times RFC 3339); unset ones left out."""
    return {k: to_public(v) for k, v in fields.items() if not p.is_unset(v)}


def _table(t: p.Table | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {"by": t.by, "rows": dict(t.rows), "else": t.else_seconds}


def target_type(t: p.Target) -> g.Target:
    table = _table(t.table)
    if t.source_override is not None:
        table = dict(table or {})
        table["override"] = _table(t.source_override)
    return g.Target(metric=gi.Metric(t.metric), seconds=t.seconds, table=table)  # type: ignore[arg-type]


def targets_of(level: p.Level | None) -> list[g.Target]:
    """A level's targets in metric order (none for a level the live ruleset lacks)."""
    if level is None:
        return []
    return [target_type(t) for metric in p.METRICS if (t := level.targets.get(metric)) is not None]


# the output levels of a policy by name, made once per policy (a page shows one per ticket;
# an output object is never changed once made): the last few policies' only
_LEVELS: dict[int, tuple[p.Policy, dict[str, g.Level]]] = {}


def level_type(policy: p.Policy, name: str | None) -> g.Level | None:
    """A level by name; one the live ruleset no longer has shows its name only (its
    targets are built only when a query selects them)."""
    if name is None:
        return None
    kept = _LEVELS.get(id(policy))
    if kept is None or kept[0] is not policy:
        if len(_LEVELS) >= 4:
            _LEVELS.clear()
        kept = _LEVELS[id(policy)] = (policy, {})
    got = kept[1].get(name)
    if got is None:
        level = policy.levels.get(name)
        if level is None:
            got = g.Level(name=name, title=None, calendar="")
        else:
            got = g.Level(
                name=level.name, title=level.title, calendar=level.calendar_name, source=level
            )
        kept[1][name] = got
    return got


# the output objects of stopped cycles, by the engine cycle's identity (a stored stopped
# cycle of an open ticket is one object until the ticket changes: store.pages `_stopped`).
# A stopped cycle's every field, lazy ones included, is the cycle's alone: its clock is
# stopped whatever the instant, level or fields (`engine.counting.clock`). Emptied when full.
_STOPPED: dict[int, tuple[m.Cycle, g.Cycle]] = {}
_STOPPED_MAX = 1 << 15


def cycle_type(
    c: m.Cycle, policy: p.Policy, level: str | None, fields: Mapping[str, Any], now: datetime
) -> g.Cycle:
    """A cycle with its business clock at `now` (the ticket's level and current fields);
    the clock, warnings and timeline are resolved only when a query selects them. A
    stopped cycle's object is made once (`_STOPPED`)."""
    if c.stopped_at is None:
        return _cycle_type(c, policy, level, fields, now)
    kept = _STOPPED.get(id(c))
    if kept is not None and kept[0] is c:
        return kept[1]
    if len(_STOPPED) >= _STOPPED_MAX:
        _STOPPED.clear()
    out = _cycle_type(c, policy, level, fields, now)
    _STOPPED[id(c)] = (c, out)
    return out


def _cycle_type(
    c: m.Cycle, policy: p.Policy, level: str | None, fields: Mapping[str, Any], now: datetime
) -> g.Cycle:
    return g.Cycle(
        metric=_METRIC[c.metric],
        index=c.index,
        state=_STATE[c.state],
        started_at=c.started_at,
        stopped_at=c.stopped_at,
        due_at=c.due_at,
        breached_at=c.breached_at,
        target_seconds=c.target,
        elapsed_seconds=c.elapsed,
        remaining_seconds=c.remaining,
        source=CycleSource(c, policy, level, fields, now),
    )


def evaluation_type(e: m.Evaluation) -> g.Evaluation:
    return g.Evaluation(
        at=e.at,
        ruleset_version=e.ruleset_version,
        matched_rules=list(e.matched),
        level_before=e.level_before,
        level_after=e.level_after,
        decided_by=e.decided_by,
    )


def rule_info_type(r: p.RuleInfo) -> g.RuleTrace:
    return g.RuleTrace(
        title=r.title,
        file=r.file,
        line=r.line,
        matched=False,
        set_level=r.set_level,
        stop=r.stop,
        stopped_here=False,
        conditions=[],
    )


def rule_trace_type(t: p.RuleTrace) -> g.RuleTrace:
    return g.RuleTrace(
        title=t.rule.title,
        file=t.rule.file,
        line=t.rule.line,
        matched=t.matched,
        set_level=t.rule.set_level,
        stop=t.rule.stop,
        stopped_here=t.stopped_here,
        conditions=[
            g.ConditionTrace(source=c.source, value=_json_value(c.value), result=c.result)
            for c in t.conditions
        ],
    )


def _json_value(v: Any) -> Any:
    out = to_public(v)
    if out is None or isinstance(out, str | int | float | bool | list | dict):
        return out
    return str(out)


def diagnostic_type(d: EngineDiagnostic) -> g.Diagnostic:
    return g.Diagnostic(
        severity=d.severity,
        code=d.code,
        message=d.message,
        file=d.file,
        line=d.line,
        column=d.column,
        hint=d.hint,
    )


def ruleset_type(policy: p.Policy, loaded_at: datetime, remeasuring: int = 0) -> g.Ruleset:
    return g.Ruleset(
        version=policy.version,
        loaded_at=loaded_at,
        files=list(policy.files),
        levels=[lv for name in policy.levels if (lv := level_type(policy, name)) is not None],
        calendars=list(policy.calendars),
        rules=[rule_info_type(r) for r in policy.rules],
        remeasuring=remeasuring,
    )


def explanation_type(
    policy: p.Policy, measured: m.Measurement, trace: Sequence[p.RuleTrace]
) -> g.Explanation:
    return g.Explanation(
        level=level_type(policy, measured.decision.level),
        decided_by=measured.decision.decided_by,
        rules=[rule_trace_type(t) for t in trace],
        cycles=[
            cycle_type(c, policy, measured.level, measured.fields, measured.now)
            for c in measured.cycles
        ],
    )


def log_row_type(r: reports.LogRow) -> g.SlaLogRow:
    return g.SlaLogRow(
        ticket_id=r.ticket_id,  # type: ignore[arg-type]
        requester=r.requester,
        department=r.department,
        assignee=r.assignee,
        level=r.level,
        metric=_METRIC[r.metric],
        index=r.index,
        started_at=r.started_at,
        due_at=r.due_at,
        stopped_at=r.stopped_at,
        state=_STATE[r.state],
        target_seconds=r.target,
        elapsed_seconds=r.elapsed,
        remaining_seconds=r.remaining,
        ruleset_version=r.ruleset_version,
    )


def compliance_row_type(r: reports.ComplianceRow) -> g.ComplianceRow:
    return g.ComplianceRow(
        day=r.day,
        department=r.department,
        assignee=r.assignee,
        level=r.level,
        metric=gi.Metric(r.metric) if r.metric else None,
        met_count=r.met_count,
        met_avg_seconds=r.met_avg_seconds,
        met_min_seconds=r.met_min_seconds,
        met_max_seconds=r.met_max_seconds,
        breached_count=r.breached_count,
        breached_avg_seconds=r.breached_avg_seconds,
        breached_min_seconds=r.breached_min_seconds,
        breached_max_seconds=r.breached_max_seconds,
        service_level=r.service_level,
    )


def alert_type(a: Alert) -> g.Alert:
    return g.Alert(
        id=strawberry.ID(a.id),
        kind=gi.AlertKind(a.kind),
        ticket_id=strawberry.ID(a.ticket_id),
        metric=gi.Metric(a.metric),
        cycle_index=a.cycle_index,
        cycle_started_at=a.cycle_started_at,
        percent=a.percent,
        before_seconds=a.before_seconds,
        at=a.at,
        level=a.level or "",
        assignee=a.assignee,
        department=a.department,
        ruleset_version=a.ruleset_version,
    )


def assignee_summary_type(a: AssigneeSummary) -> g.AssigneeSummary:
    return g.AssigneeSummary(
        assignee=a.assignee,
        open_count=a.open_count,
        at_risk_count=a.at_risk_count,
        breached_count=a.breached_count,
        met_count=a.met_count,
        missed_count=a.missed_count,
        service_level=a.service_level,
    )
