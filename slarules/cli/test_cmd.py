"""`slarules test RULES FIXTURES…`: replay fixture tickets against a ruleset (fixtures.md).

One block per failing fixture (a `FAIL` line, then one line per differing
key), then exactly `N passed, M failed`. Exit 0 all passed, 1 any failed
(or coverage below `--min-coverage`), 2 usage error, no fixture found or a
ruleset with errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from slarules.cli import COMMANDS
from slarules.engine.policy import Policy
from slarules.errors import RulesError
from slarules.rulesets import NoRulesFound, load_policy


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "test",
        help=COMMANDS["test"],
        description="Replay fixture tickets (TOML or JSON, directories read recursively) "
        "against a ruleset and compare with their `expect` tables.",
    )
    p.add_argument("rules", metavar="RULES", help="a .sla file or a directory of .sla files")
    p.add_argument(
        "fixtures",
        metavar="FIXTURES",
        nargs="+",
        help="fixture files or directories (*.toml, *.json, recursively)",
    )
    p.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report to FILE")
    p.add_argument(
        "--format",
        choices=("text", "github", "json"),
        default="text",
        help="output: readable text (default), GitHub annotations, or one JSON document",
    )
    p.add_argument(
        "-k",
        metavar="PATTERN",
        dest="pattern",
        help="run only fixtures whose path or name contains PATTERN (case-insensitive; "
        "several with `or`, e.g. `vip or dst`)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print every fixture's verdict, not only failures",
    )
    p.add_argument(
        "--coverage",
        action="store_true",
        help="report rules that never decided a level and levels never reached",
    )
    p.add_argument(
        "--min-coverage",
        metavar="P",
        type=float,
        dest="min_coverage",
        help="fail (exit 1) when coverage is below P percent",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes (default: one per core from 400 fixtures on)",
    )


def _err(message: str) -> None:
    print(f"slarules test: {message}", file=sys.stderr)


def load_rules(command: str, path: str) -> Policy | None:
    """The policy, or None after printing why (diagnostics or a usage error) to stderr."""
    try:
        return load_policy(path)
    except NoRulesFound as e:
        for d in e.diagnostics:
            print(
                f"slarules {command}: {d.message}" + (f" ({d.hint})" if d.hint else ""),
                file=sys.stderr,
            )
    except RulesError as e:
        for d in e.diagnostics:
            print(d.render(), file=sys.stderr)
        print(f"slarules {command}: the ruleset `{path}` has errors", file=sys.stderr)
    except OSError as e:
        print(f"slarules {command}: cannot read `{path}`: {e.strerror or e}", file=sys.stderr)
    return None


def find_or_report(command: str, paths: list[str]) -> list[Path] | None:
    from slarules.fixtures import find_fixtures

    try:
        files = find_fixtures(paths)
    except FileNotFoundError as e:
        print(f"slarules {command}: `{e}` does not exist", file=sys.stderr)
        return None
    if not files:
        print(
            f"slarules {command}: no fixtures (*.toml, *.json) found in "
            + ", ".join(f"`{p}`" for p in paths),
            file=sys.stderr,
        )
        return None
    return files


def _github(path: str, text: str) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::error file={path},title=fixture failed::{text}"


def _selected(files: list[Path], pattern: str | None) -> list[Path]:
    """Fixtures whose path (or file stem) contains one of the `or`-separated words."""
    if not pattern:
        return files
    words = [w.strip().casefold() for w in pattern.split(" or ") if w.strip()]
    return [f for f in files if any(w in str(f).casefold() for w in words)]


def _json(outcomes: list[Any], failed: int, cov: Any) -> str:
    import json

    doc: dict[str, Any] = {
        "passed": len(outcomes) - failed,
        "failed": failed,
        "fixtures": [
            {
                "path": o.path,
                "name": o.name,
                "passed": o.passed,
                "level": o.level,
                "decided_by": o.decided_by,
                "problems": list(o.lines),
            }
            for o in outcomes
        ],
    }
    if cov is not None:
        doc["coverage"] = {
            "percent": round(cov.percent, 1),
            "rules_missed": list(cov.rules_missed),
            "levels_missed": list(cov.levels_missed),
        }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def run(args: argparse.Namespace) -> int:
    from slarules.fixtures import coverage, junit_xml
    from slarules.fixtures.runner import run_fixtures

    if args.min_coverage is not None and not 0 <= args.min_coverage <= 100:
        _err("--min-coverage takes a percentage between 0 and 100")
        return 2
    policy = load_rules("test", args.rules)
    if policy is None:
        return 2
    files = find_or_report("test", args.fixtures)
    if files is None:
        return 2
    if args.jobs is not None and args.jobs < 1:
        _err("--jobs takes a number of processes of at least 1")
        return 2
    files = _selected(files, args.pattern)
    if not files:
        _err(f"no fixture matches `-k {args.pattern}`")
        return 2
    outcomes = run_fixtures(policy, files, jobs=args.jobs)
    failed = sum(not o.passed for o in outcomes)
    if args.format == "json":
        cov = coverage(policy, outcomes) if args.coverage or args.min_coverage is not None else None
        print(_json(outcomes, failed, cov))
        if args.junit:
            Path(args.junit).write_bytes(junit_xml(outcomes))
        low = cov is not None and args.min_coverage is not None and cov.percent < args.min_coverage
        return 1 if failed or low else 0
    for o in outcomes:
        if o.passed:
            if args.verbose:
                print(f"PASS {o.title}" + (f" level {o.level or 'none'}" if o.measured else ""))
            continue
        if args.format == "github":
            print(_github(o.path, "\n".join([o.name or o.path, *o.lines])))
        else:
            print(f"FAIL {o.title}")
            for line in o.lines:
                print(f"  {line}")
    code = 1 if failed else 0
    if args.junit:
        try:
            Path(args.junit).write_bytes(junit_xml(outcomes))
        except OSError as e:
            _err(f"cannot write `{args.junit}`: {e.strerror or e}")
            return 2
    if args.coverage or args.min_coverage is not None:
        cov = coverage(policy, outcomes)
        lines = cov.lines() if args.coverage else cov.lines()[:1]
        for line in lines:
            print(line)
        if args.min_coverage is not None and cov.percent < args.min_coverage:
            print(f"coverage {cov.percent:.1f}% is below the minimum {args.min_coverage:g}%")
            code = 1
    print(f"{len(outcomes) - failed} passed, {failed} failed")
    return code
