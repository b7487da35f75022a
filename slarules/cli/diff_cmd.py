"""`slarules diff OLD_RULES NEW_RULES (FIXTURES… | --db URL [--since 30d])`: what a rule
change does to tickets.

With `--db`, the stored tickets created or active since `--since` (a span
like `30d`, `12h`, or an RFC 3339 instant) are replayed read-only under
both rulesets in worker processes (service.preview); the report is a level
transition matrix with the rules behind each move, the cycles that flip per
metric, compliance per level and metric before and after, and example ids.
`--format json|markdown` gives that report for fixtures too (the same tally).

Per ticket: the level (and deciding rule) before and after, and the cycles
whose outcome changes (met ↔ breached, any change into or out of met or
breached, a cycle that appears or disappears); then compliance before and
after over all those tickets. Fixtures with `expect.error` are skipped.
Exit 0 whether or not anything changed; 1 when a fixture (or stored ticket)
could not be read or measured under either ruleset; 2 usage error, no
fixtures, a ruleset with errors, a database that cannot be read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from slarules.cli import COMMANDS
from slarules.cli.test_cmd import find_or_report, load_rules
from slarules.clock import SystemClock
from slarules.engine.measurement import Cycle, Measurement
from slarules.engine.policy import METRICS, Policy
from slarules.engine.reports import ComplianceRow, Dimension, LogRow, compliance, log_rows
from slarules.errors import InputError

_EPOCH = datetime(1, 1, 1, tzinfo=UTC)
_END = datetime(9999, 12, 31, tzinfo=UTC)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "diff",
        help=COMMANDS["diff"],
        description="Measure fixture tickets under OLD and NEW rules and show what changes: "
        "per ticket the level and the cycles that flip met/breached (or appear or "
        "disappear), then compliance before and after. Exit status is 0 whether "
        "or not anything changed (1 if a fixture cannot be read, 2 on usage errors).",
    )
    p.add_argument("old", metavar="OLD_RULES", help="the current ruleset (.sla file or directory)")
    p.add_argument("new", metavar="NEW_RULES", help="the changed ruleset")
    p.add_argument(
        "fixtures",
        metavar="FIXTURES",
        nargs="*",
        help="fixture files or directories (*.toml, *.json, recursively); not with --db",
    )
    p.add_argument("--db", metavar="URL", help="replay the tickets stored in this database")
    p.add_argument(
        "--since",
        metavar="T",
        default="30d",
        help="with --db: tickets created or active since T: `30d`, `12h`, `90m` ago, "
        "or an RFC 3339 instant (default: 30d)",
    )
    p.add_argument(
        "--now", metavar="T", help="with --db: measure as of T (RFC 3339; default: the clock)"
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text (default), json, or markdown (a pull-request comment)",
    )
    p.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="with --db: worker processes (default: cores)"
    )


def _measure(policy: Policy, doc: dict[str, Any], path: str) -> Measurement:
    from slarules.fixtures import parse_fixture
    from slarules.fixtures.runner import engine_measure

    fx = parse_fixture(doc, policy, path, explain=True)
    return engine_measure(policy, fx.history, fx.now)


def _outcome(c: Cycle | None) -> str:
    return "no cycle" if c is None else c.state


def cycle_changes(old: Measurement, new: Measurement) -> list[str]:
    """`metric#i: old → new` for cycles whose outcome changes (see the module docstring)."""
    before = {(c.metric, c.index): c for c in old.cycles}
    after = {(c.metric, c.index): c for c in new.cycles}
    keys = sorted(before.keys() | after.keys(), key=lambda k: (METRICS.index(k[0]), k[1]))
    out = []
    for k in keys:
        a, b = before.get(k), after.get(k)
        sa, sb = _outcome(a), _outcome(b)
        finished = {"met", "breached", "no cycle"}
        if sa != sb and ({sa, sb} & finished):
            out.append(f"{k[0]}#{k[1]}: {sa} → {sb}")
    return out


def level_change(old: Measurement, new: Measurement) -> str | None:
    lo, ln = old.level or "none", new.level or "none"
    ro, rn = old.decision.decided_by or "none", new.decision.decided_by or "none"
    if (lo, ro) == (ln, rn):
        return None
    return f'level: {lo} → {ln} (rule "{ro}" → "{rn}")'


def _summary(row: ComplianceRow) -> str:
    sl = "n/a" if row.service_level is None else f"{row.service_level:.1f}%"
    return f"{row.met_count} met, {row.breached_count} breached, {sl}"


def compliance_lines(old_rows: list[LogRow], new_rows: list[LogRow]) -> list[str]:
    """Compliance of finished cycles, all together and per metric, before → after."""
    out = []
    groups: tuple[tuple[str, tuple[Dimension, ...]], ...] = (("all", ()), ("metric", ("metric",)))
    for label, group in groups:
        old = {r.metric: r for r in compliance(old_rows, _EPOCH, _END, group)}
        new = {r.metric: r for r in compliance(new_rows, _EPOCH, _END, group)}
        for key in sorted(old.keys() | new.keys(), key=lambda m: METRICS.index(m) if m else -1):
            name = key or label
            a = _summary(old[key]) if key in old else "no cycles"
            b = _summary(new[key]) if key in new else "no cycles"
            mark = "" if a == b else "   (changed)"
            out.append(f"  {name:<18} {a:<32} →  {b}{mark}")
    return out


_SPAN = re.compile(r"(\d+)([wdhm])")
_UNIT = {"w": 7 * 86_400, "d": 86_400, "h": 3600, "m": 60}


def parse_since(text: str, now: datetime) -> datetime:
    """`30d` / `12h` / `90m` / `2w` before `now`, or an RFC 3339 instant (InputError)."""
    m = _SPAN.fullmatch(text.strip())
    if m:
        return now - timedelta(seconds=int(m.group(1)) * _UNIT[m.group(2)])
    from slarules.fixtures import parse_instant

    try:
        return parse_instant(text, "--since")
    except InputError:
        raise InputError(
            "bad-value", f"`{text}` is neither a span like 30d, 12h, 90m nor an instant", "--since"
        ) from None


def _usage(message: str) -> int:
    print(f"slarules diff: {message}", file=sys.stderr)
    return 2


def _emit(report: dict[str, Any], fmt: str) -> None:
    from slarules.cli.preview_format import markdown, text

    if fmt == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(markdown(report) if fmt == "markdown" else text(report), end="\n" * (fmt == "text"))


def run_db(args: argparse.Namespace, old_policy: Policy, new_policy: Policy) -> int:
    from slarules.errors import SettingsError
    from slarules.fixtures import parse_instant
    from slarules.service.preview import preview_store
    from slarules.settings import parse_database_url
    from slarules.store.histories import ReadOnlyError

    try:
        config = parse_database_url(args.db)
        now = SystemClock().now()
        if args.now is not None:
            now = parse_instant(args.now, "--now")
        since = parse_since(args.since, now)
    except SettingsError as e:
        return _usage(str(e))
    except InputError as e:
        return _usage(f"{e.key}: {e.message}")
    if args.jobs is not None and args.jobs < 1:
        return _usage("--jobs: at least 1")
    try:
        report = preview_store(config, old_policy, new_policy, since, now, jobs=args.jobs)
    except ReadOnlyError as e:
        return _usage(str(e))
    data = report.as_dict()
    _emit(data, args.format)
    return 1 if data["unmeasurable"] else 0


def run(args: argparse.Namespace) -> int:
    from slarules.fixtures import FixtureError, read_data
    from slarules.fixtures.loader import expected_error
    from slarules.service.preview import Preview

    if args.db is not None and args.fixtures:
        return _usage("give FIXTURES or --db, not both")
    if args.db is None and not args.fixtures:
        return _usage("give fixture files or directories, or --db URL")
    old_policy = load_rules("diff", args.old)
    new_policy = load_rules("diff", args.new)
    if old_policy is None or new_policy is None:
        return 2
    if args.db is not None:
        return run_db(args, old_policy, new_policy)
    files = find_or_report("diff", args.fixtures)
    if files is None:
        return 2
    old_rows: list[LogRow] = []
    new_rows: list[LogRow] = []
    changed = failed = skipped = measured = 0
    tally = Preview()
    say = print if args.format == "text" else (lambda *a, **k: None)
    for f in files:
        path = str(f)
        try:
            doc = read_data(f)
            if expected_error(doc) is not None:
                skipped += 1
                continue
            old = _measure(old_policy, doc, path)
            new = _measure(new_policy, doc, path)
        except (FixtureError, InputError) as e:
            failed += 1
            msg = str(e) if isinstance(e, FixtureError) else f"{path}: {e}"
            say(f"ERROR {msg}")
            tally.fail(path, "both" if isinstance(e, FixtureError) else "old or new", msg)
            continue
        measured += 1
        tally.add(old, new)
        old_rows.extend(log_rows(old))
        new_rows.extend(log_rows(new))
        lines = [x for x in (level_change(old, new),) if x] + cycle_changes(old, new)
        if lines:
            changed += 1
            name = doc.get("name")
            say(f"{path} ({name})" if isinstance(name, str) else path)
            for line in lines:
                say(f"  {line}")
    if args.format != "text":
        _emit(tally.as_dict(), args.format)
        return 1 if failed else 0
    print("compliance of finished cycles, old → new:")
    for line in compliance_lines(old_rows, new_rows):
        print(line)
    extra = f", {skipped} skipped (expect.error)" if skipped else ""
    extra += f", {failed} unreadable" if failed else ""
    print(f"{measured} tickets, {changed} changed{extra}")
    return 1 if failed else 0
