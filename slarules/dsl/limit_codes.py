"""The diagnostics of the language's limits (language.md §Limits), registered in
`codes.REGISTRY` like every other code."""

from __future__ import annotations

from slarules.dsl.codes import code


@code("file-too-large", "error")
def file_too_large(nbytes: int, limit: int) -> tuple[str, str | None]:
    return (
        f"the file has {nbytes:,} bytes; a rules file may have at most {limit:,}",
        "split the ruleset into several files",
    )


@code("ruleset-too-large", "error")
def ruleset_too_large(total: int, limit: int) -> tuple[str, str | None]:
    return (
        f"the ruleset's files have {total:,} bytes together; at most {limit:,} are allowed",
        "remove unused rules, levels or comments",
    )


@code("nesting-too-deep", "error")
def nesting_too_deep(limit: int, whole_file: bool = False) -> tuple[str, str | None]:
    """At the token that goes deeper; `whole_file`: the last resort, a tree too deep to read."""
    if whole_file:
        return (
            "the file nests too deeply to be read",
            f"keep conditions within {limit} levels of parentheses and `not`",
        )
    return (
        f"the condition nests deeper than {limit} levels of parentheses and `not`",
        "flatten it (`not (a or b)` is `not a and not b`) or split it over rules",
    )


@code("number-too-long", "error")
def number_too_long(token: str, limit: int) -> tuple[str, str | None]:
    return (
        f"`{token[:20]}…` has more than {limit} digits",
        f"numbers, durations and percentages have at most {limit} digits",
    )


@code("condition-too-long", "error")
def condition_too_long(terms: int, limit: int) -> tuple[str, str | None]:
    return (
        f"the condition has {terms} comparisons; at most {limit} are allowed",
        "use a list (`field in [...]`, `contains any [...]`) or split it over several rules",
    )


@code("too-many-rules", "error")
def too_many_rules(limit: int) -> tuple[str, str | None]:
    return (
        f"a ruleset may have at most {limit} rules",
        "use lists (`in [...]`) or tables (`by FIELD { ... }`) instead of one rule per value",
    )


@code("duration-too-long", "error")
def duration_too_long(raw: str, limit: str, hours: int) -> tuple[str, str | None]:
    return (
        f"`{raw}` is longer than the maximum duration {limit} ({hours}h)",
        f"durations are at most {limit}",
    )


@code("target-out-of-range", "error")
def target_out_of_range(
    raw: str, years: int, calendar: str, weekly_seconds: int, budget_seconds: int
) -> tuple[str, str | None]:
    open_h = f"{weekly_seconds / 3600:g}" if weekly_seconds else "no"
    return (
        f"`{raw}` needs more than {years} years of calendar `{calendar}`, "
        f"which has {open_h} open hours a week",
        f"at most {budget_seconds // 3600}h with this calendar; add open hours "
        "or shorten the target"
        if weekly_seconds
        else "give the calendar `hours`",
    )


@code("cannot-compile", "error")
def cannot_compile(error: str) -> tuple[str, str | None]:
    """A ruleset that passed every check but did not compile (a bug, never a crash)."""
    return (
        f"the ruleset passed its checks but could not be compiled ({error})"[:300],
        "simplify the conditions named in the message and report this as a bug",
    )
