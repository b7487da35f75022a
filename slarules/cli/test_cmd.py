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

from slarules.engine.policy import Policy
from slarules.errors import RulesError
from slarules.rulesets import NoRulesFound, load_policy


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "test",
        help="replay fixture tickets against a ruleset",
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
        choices=("text", "github"),
        default="text",
        help="failure output: readable text (default) or GitHub annotations",
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
    outcomes = run_fixtures(policy, files, jobs=args.jobs)
    for o in outcomes:
        if o.passed:
            continue
        if args.format == "github":
            print(_github(o.path, "\n".join([o.name or o.path, *o.lines])))
        else:
            print(f"FAIL {o.title}")
            for line in o.lines:
                print(f"  {line}")
    failed = sum(not o.passed for o in outcomes)
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
