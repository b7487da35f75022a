"""Why a ticket stands where it does: a rule trace and measured cycles as text or data.

Shared by `slarules explain`, the failure report of `slarules test` and (later)
GraphQL. Instants are shown in the ruleset's `timezone` as RFC 3339 with the
local offset (`2026-03-02T10:00:00-03:00`), so they read as local time and
stay exact; durations as `1h30m`, `-15m`, `0s`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slarules.engine.measurement import Cycle, Measurement, WarningMark
from slarules.engine.policy import Decision, Policy, RuleTrace, is_unset


def format_duration(seconds: int) -> str:
    """Seconds as `40h`, `1h30m`, `10m30s`, `-15m`, `0s` (the fixture duration syntax)."""
    if seconds == 0:
        return "0s"
    sign, n = ("-" if seconds < 0 else ""), abs(seconds)
    h, rest = divmod(n, 3600)
    m, s = divmod(rest, 60)
    return sign + "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v)


def format_instant(at: datetime | None, tz: ZoneInfo) -> str:
    """RFC 3339 in `tz` (whole seconds), or `none`."""
    if at is None:
        return "none"
    return at.astimezone(tz).replace(microsecond=0).isoformat()


def format_value(value: Any, tz: ZoneInfo) -> str:
    """A field value as a rule author would write it: `"text"`, `["a", "b"]`, `3`, `true`, unset."""
    if is_unset(value):
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, datetime):
        return format_instant(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v, tz) for v in value) + "]"
    return str(value)


def _field_of(source: str) -> str:
    """The field a condition reads (its leading name, without a `.part`)."""
    head = source.lstrip("( ").split(" ", 1)[0]
    return head.split(".", 1)[0]


def _rule_head(n: int, t: RuleTrace) -> str:
    r = t.rule
    action = []
    if r.set_level is not None:
        action.append(f"set level {r.set_level}")
    if r.stop:
        action.append("stop")
    return f'{n}. "{r.title}" ({r.file}:{r.line}; {", ".join(action) or "no action"})'


def rule_lines(decision: Decision, tz: ZoneInfo) -> list[str]:
    """Every rule in order with each condition's source, actual value and verdict."""
    out: list[str] = []
    stopped_at: int | None = None
    for n, t in enumerate(decision.trace, 1):
        if stopped_at is not None:
            out.append(f"{_rule_head(n, t)}: not evaluated (stopped at rule {stopped_at})")
            continue
        verdict = "matched" if t.matched else "no match"
        if t.stopped_here:
            verdict += ", evaluation stops here"
            stopped_at = n
        out.append(f"{_rule_head(n, t)}: {verdict}")
        if not t.conditions:
            out.append("     always (no `when`)" if t.matched else "     (no condition evaluated)")
        for c in t.conditions:
            mark = "true " if c.result else "false"
            out.append(
                f"     {mark} {c.source}   [{_field_of(c.source)} = {format_value(c.value, tz)}]"
            )
    if stopped_at is None and decision.trace:
        out.append(f"   (no rule stopped the run: all {len(decision.trace)} rules were evaluated)")
    return out


def level_history_lines(m: Measurement, tz: ZoneInfo) -> list[str]:
    """The runs of the rules that changed the level (creation included)."""
    out = []
    for e in m.evaluations:
        if e is m.evaluations[0] or e.level_before != e.level_after:
            by = (
                "default level"
                if e.decided_by == "default"
                else (f'rule "{e.decided_by}"' if e.decided_by else "no rule")
            )
            out.append(
                f"{format_instant(e.at, tz)}  {e.level_before or 'none'} → "
                f"{e.level_after or 'none'} ({by})" + (f"; {e.note}" if e.note else "")
            )
    return out


def decision_line(decision: Decision) -> str:
    level = decision.level or "none"
    if decision.decided_by is None:
        return f"level: {level} (no rule set a level and there is no default level)"
    if decision.decided_by == "default":
        return f"level: {level} (the default level: no rule set one)"
    return f'level: {level} (decided by rule "{decision.decided_by}")'


def _warning_text(w: WarningMark, tz: ZoneInfo) -> str:
    if w.percent is not None:
        return f"{w.percent:g}% at {format_instant(w.at, tz)}"
    return f"{format_duration(w.before or 0)} before at {format_instant(w.at, tz)}"


def cycle_lines(cycles: Sequence[Cycle], tz: ZoneInfo) -> list[str]:
    """Each cycle's state, figures, warnings and timeline."""
    out: list[str] = []
    for c in cycles:
        out.append(f"{c.metric} #{c.index}: {c.state}")
        out.append(
            f"    elapsed {format_duration(c.elapsed)}, remaining "
            f"{format_duration(c.remaining)}, target {format_duration(c.target)}"
        )
        out.append(
            f"    started {format_instant(c.started_at, tz)}, "
            f"stopped {format_instant(c.stopped_at, tz)}"
        )
        out.append(
            f"    due {format_instant(c.due_at, tz)}, breached {format_instant(c.breached_at, tz)}"
        )
        if c.warnings:
            out.append("    warnings: " + "; ".join(_warning_text(w, tz) for w in c.warnings))
        out.append("    timeline:")
        out.extend(f"      {format_instant(e.at, tz)}  {e.kind}" for e in c.timeline)
    return out


def explanation_lines(policy: Policy, m: Measurement) -> list[str]:
    """The whole `explain` report for one measured ticket."""
    tz = policy.timezone
    decision = policy.explain(m.fields)
    out = [
        f"ticket {m.ticket_id} as of {format_instant(m.now, tz)} "
        f"(ruleset {m.ruleset_version}; times in {tz.key})",
        "",
        "rules, on the ticket's fields as of now:",
    ]
    out.extend("  " + line for line in rule_lines(decision, tz))
    out.append(decision_line(m.decision))
    notes = list(dict.fromkeys(e.note for e in m.evaluations if e.note))
    out.extend(f"note: {n}" for n in notes)  # e.g. an unknown status treated as open
    history = level_history_lines(m, tz)
    if len(history) > 1:
        out.append("level changes (the whole history is measured under the final level):")
        out.extend("  " + line for line in history)
    out.append("")
    if m.cycles:
        out.append("cycles:")
        out.extend("  " + line for line in cycle_lines(m.cycles, tz))
    else:
        out.append("cycles: none" + (" (no level)" if m.level is None else ""))
    return out


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def explanation_data(policy: Policy, m: Measurement) -> dict[str, Any]:
    """The same report as JSON-ready data (instants RFC 3339 with their offset, seconds)."""
    decision = policy.explain(m.fields)
    tz = policy.timezone
    return {
        "ticket": m.ticket_id,
        "now": _iso(m.now.astimezone(tz)),
        "ruleset_version": m.ruleset_version,
        "level": m.level,
        "decided_by": m.decision.decided_by,
        "fields": {k: _json_value(v) for k, v in m.fields.items()},
        "rules": [
            {
                "title": t.rule.title,
                "file": t.rule.file,
                "line": t.rule.line,
                "set_level": t.rule.set_level,
                "stop": t.rule.stop,
                "matched": t.matched,
                "stopped_here": t.stopped_here,
                "conditions": [
                    {"source": c.source, "value": _json_value(c.value), "result": c.result}
                    for c in t.conditions
                ],
            }
            for t in decision.trace
        ],
        "cycles": [
            {
                "metric": c.metric,
                "index": c.index,
                "state": c.state,
                "started_at": _iso(c.started_at.astimezone(tz)),
                "stopped_at": _iso(c.stopped_at and c.stopped_at.astimezone(tz)),
                "due_at": _iso(c.due_at and c.due_at.astimezone(tz)),
                "breached_at": _iso(c.breached_at and c.breached_at.astimezone(tz)),
                "target_seconds": c.target,
                "elapsed_seconds": c.elapsed,
                "remaining_seconds": c.remaining,
                "warnings": [
                    {
                        "percent": w.percent,
                        "before_seconds": w.before,
                        "at": _iso(w.at.astimezone(tz)),
                    }
                    for w in c.warnings
                ],
                "timeline": [{"kind": e.kind, "at": _iso(e.at.astimezone(tz))} for e in c.timeline],
            }
            for c in m.cycles
        ],
        "evaluations": [
            {
                "at": _iso(e.at.astimezone(tz)),
                "matched": list(e.matched),
                "level_before": e.level_before,
                "level_after": e.level_after,
                "decided_by": e.decided_by,
                **({"note": e.note} if e.note else {}),
            }
            for e in m.evaluations
        ],
    }
