"""An impact preview report (service.preview `as_dict`) as text or as a pull-request comment."""

from __future__ import annotations

from typing import Any

FLIPS = (
    ("met_to_breached", "met → breached"),
    ("breached_to_met", "breached → met"),
    ("appeared", "appeared"),
    ("disappeared", "disappeared"),
    ("other", "other changes"),
)


def _sl(c: dict[str, Any]) -> str:
    sl = c["service_level"]
    return "n/a" if sl is None else f"{sl:.1f}%"


def _summary(c: dict[str, Any]) -> str:
    return f"{c['met_count']} met, {c['breached_count']} breached, {_sl(c)}"


def _levels(report: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for t in report["transitions"]:
        seen.setdefault(t["from"])
        seen.setdefault(t["to"])
    return sorted(seen, key=lambda x: (x == "none", x))


def _matrix(report: dict[str, Any]) -> tuple[list[str], dict[tuple[str, str], int]]:
    cells = {(t["from"], t["to"]): t["count"] for t in report["transitions"]}
    return _levels(report), cells


def _moved(report: dict[str, Any]) -> int:
    return sum(t["count"] for t in report["transitions"] if t["from"] != t["to"])


def _flip_total(report: dict[str, Any], kind: str) -> int:
    return sum(f[kind] for f in report["flips"])


def _causes(t: dict[str, Any]) -> str:
    return ", ".join(f'"{c["from_rule"]}" → "{c["to_rule"]}" ×{c["count"]}' for c in t["causes"])


def _head(report: dict[str, Any]) -> str:
    where = ""
    if report.get("since"):
        where = f" created or active since {report['since']}, as of {report['now']}"
    versions = ""
    if report.get("old_version"):
        versions = f"; rules {report['old_version']} → {report['new_version']}"
    cut = ""
    if report.get("truncated"):
        cut = f" (stopped early: the {report['stopped_by']} budget ran out)"
    return f"{report['tickets']} tickets{where}, {report['changed']} changed{versions}{cut}"


def text(report: dict[str, Any]) -> str:
    out = [_head(report)]
    levels, cells = _matrix(report)
    if levels:
        out.append("levels, old (rows) × new (columns):")
        width = max(len(x) for x in [*levels, "old \\ new"]) + 2
        out.append("  " + "old \\ new".ljust(width) + "".join(x.rjust(width) for x in levels))
        for a in levels:
            row = "".join(str(cells.get((a, b), "")).rjust(width) for b in levels)
            out.append("  " + a.ljust(width) + row)
    moves = [t for t in report["transitions"] if t["from"] != t["to"] or len(t["causes"]) > 1]
    if moves:
        out.append("transitions (deciding rule old → new; examples):")
        for t in moves:
            out.append(
                f"  {t['from']} → {t['to']}: {t['count']} ({_causes(t)}); "
                f"e.g. {', '.join(t['examples'])}"
            )
    if report["flips"]:
        out.append("cycles that change, per metric:")
        for f in report["flips"]:
            parts = ", ".join(f"{label} {f[k]}" for k, label in FLIPS if f[k])
            eg = "; ".join(f"{k}: {', '.join(ids)}" for k, ids in f["examples"].items())
            out.append(f"  {f['metric']}: {parts} (e.g. {eg})")
    else:
        out.append("no cycle changes outcome")
    out.append("compliance of finished cycles (level / metric), old → new:")
    for c in report["compliance"]:
        a, b = _summary(c["before"]), _summary(c["after"])
        mark = "" if a == b else "   (changed)"
        out.append(f"  {c['level'] + ' / ' + c['metric']:<32} {a:<30} →  {b}{mark}")
    for u in report["unmeasurable"]:
        out.append(f"ERROR ticket {u['ticket_id']}: cannot be measured ({u['ruleset']}): ")
        out[-1] += u["message"]
    return "\n".join(out)


def markdown(report: dict[str, Any]) -> str:
    """A pull-request comment: a short summary table first, the details folded."""
    out = [
        "### SLA rules impact preview",
        "",
        _head(report),
        "",
        "| tickets | changed | level moves | met → breached | breached → met | "
        "appeared | disappeared | unmeasurable |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {report['tickets']} | {report['changed']} | {_moved(report)} | "
        + " | ".join(
            str(_flip_total(report, k))
            for k in ("met_to_breached", "breached_to_met", "appeared", "disappeared")
        )
        + f" | {len(report['unmeasurable'])} |",
        "",
    ]
    levels, cells = _matrix(report)
    if levels:
        out += ["<details><summary>Level transitions</summary>", ""]
        out.append("| old \\ new | " + " | ".join(levels) + " |")
        out.append("|---|" + "---:|" * len(levels))
        for a in levels:
            out.append(
                f"| **{a}** | " + " | ".join(str(cells.get((a, b), "")) for b in levels) + " |"
            )
        out += ["", "| old → new | tickets | deciding rules | examples |", "|---|---:|---|---|"]
        for t in report["transitions"]:
            if t["from"] != t["to"] or len(t["causes"]) > 1:
                out.append(
                    f"| {t['from']} → {t['to']} | {t['count']} | {_causes(t)} | "
                    f"{', '.join(t['examples'])} |"
                )
        out += ["", "</details>", ""]
    if report["flips"]:
        out += ["<details><summary>Cycles that change, per metric</summary>", ""]
        out.append("| metric | " + " | ".join(label for _k, label in FLIPS) + " | examples |")
        out.append("|---|" + "---:|" * len(FLIPS) + "---|")
        for f in report["flips"]:
            eg = "; ".join(f"{k}: {', '.join(ids)}" for k, ids in f["examples"].items())
            out.append(
                f"| {f['metric']} | " + " | ".join(str(f[k]) for k, _l in FLIPS) + f" | {eg} |"
            )
        out += ["", "</details>", ""]
    if report["compliance"]:
        out += ["<details><summary>Compliance before and after</summary>", ""]
        out += [
            "| level | metric | before | after |",
            "|---|---|---|---|",
        ]
        for c in report["compliance"]:
            out.append(
                f"| {c['level']} | {c['metric']} | {_summary(c['before'])} | "
                f"{_summary(c['after'])} |"
            )
        out += ["", "</details>", ""]
    if report["unmeasurable"]:
        out += ["**Tickets that cannot be measured:**", ""]
        out += [
            f"- `{u['ticket_id']}` ({u['ruleset']} rules): {u['message']}"
            for u in report["unmeasurable"]
        ]
    return "\n".join(out).rstrip() + "\n"
