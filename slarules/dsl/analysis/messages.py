"""The findings of `check --analyze` (shadowed rules, dead conditions, …), registered in
`codes.REGISTRY` like every other code."""

from __future__ import annotations

from slarules.dsl.codes import code


@code("shadowed-rule", "warning")
def shadowed_rule(title: str, by: list[str]) -> tuple[str, str | None]:
    names = ", ".join(f'"{t}"' for t in by) or "earlier or later rules"
    return (
        f'rule "{title}" never decides the level: every ticket it matches is decided by {names}',
        "remove the rule, move it before the rules that shadow it, or add `stop`",
    )


@code("dead-condition", "warning")
def dead_condition(text: str) -> tuple[str, str | None]:
    return f"no ticket can satisfy `{text}`", "the values contradict each other or the schema"


@code("always-true", "warning")
def always_true(text: str) -> tuple[str, str | None]:
    return f"every ticket satisfies `{text}`", "drop the `when`: the rule always matches"


@code("falls-through", "info")
def falls_through(described: str, level: str | None) -> tuple[str, str | None]:
    gets = f"the default level `{level}`" if level else "no level (there is no `default level`)"
    return f"no rule sets a level for tickets with {described}; they get {gets}", None


@code("missing-target", "warning")
def missing_target(level: str, metric: str, described: str) -> tuple[str, str | None]:
    return (
        f"level `{level}` has no `{metric}` target for tickets with {described}",
        "add a row for these values or an `else` row to the table",
    )


@code("stop-cuts-nothing", "warning")
def stop_cuts_nothing(title: str) -> tuple[str, str | None]:
    return (
        f'the `stop` of rule "{title}" changes no decision: no later rule would set a level',
        "remove `stop` or keep it as a guard against rules added later",
    )


@code("not-decided", "info")
def not_decided(what: str, why: str) -> tuple[str, str | None]:
    return f"the analysis cannot decide whether {what}", why
