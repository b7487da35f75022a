"""Reading rulesets from disk (the edge): a `.sla` file or a directory of them."""

from __future__ import annotations

from pathlib import Path

from slarules.dsl.source import BuildResult, SourceFile
from slarules.engine.policy import Policy
from slarules.errors import Diagnostic, RulesError


class NoRulesFound(RulesError):
    """The path names no `.sla` file (a usage error: exit code 2)."""


def read_sources(path: str | Path) -> list[SourceFile]:
    """The ruleset's files in code-point order of their names (directly in a directory)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(
            (f for f in p.iterdir() if f.suffix == ".sla" and f.is_file()), key=lambda f: f.name
        )
    elif p.is_file():
        files = [p]
    else:
        raise NoRulesFound([Diagnostic("error", "no-rules", f"`{path}` does not exist", str(path))])
    if not files:
        hint = "a ruleset is a .sla file or a directory of them"
        raise NoRulesFound(
            [Diagnostic("error", "no-rules", f"no `.sla` files in `{path}`", str(path), hint=hint)]
        )
    return [SourceFile(str(f), f.read_bytes()) for f in files]


def build_path(path: str | Path) -> BuildResult:
    """Read and build a ruleset; raises NoRulesFound when there is nothing to read."""
    from slarules.dsl import build

    return build(read_sources(path))


def load_policy(path: str | Path) -> Policy:
    """A ready policy, or RulesError carrying every diagnostic."""
    result = build_path(path)
    if result.policy is None:
        raise RulesError(result.diagnostics)
    return result.policy
