"""Every diagnostic's code, severity and wording, in one place (as cel-go's `typeErrors`).

One function per situation; each is registered under its code, so
`REGISTRY` is the complete set of codes the language reports (a test checks
it against language.md §Checking). The checker, the parser's callers and the
analysis build diagnostics only through these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ParamSpec

from slarules.dsl.names import did_you_mean
from slarules.errors import Severity

P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Msg:
    code: str
    severity: Severity
    message: str
    hint: str | None = None


REGISTRY: dict[str, Severity] = {}


def _code(
    code: str, severity: Severity
) -> Callable[[Callable[P, tuple[str, str | None]]], Callable[P, Msg]]:
    REGISTRY[code] = severity

    def wrap(fn: Callable[P, tuple[str, str | None]]) -> Callable[P, Msg]:
        def make(*args: P.args, **kwargs: P.kwargs) -> Msg:
            message, hint = fn(*args, **kwargs)
            return Msg(code, severity, message, hint)

        make.__name__ = fn.__name__
        make.__doc__ = fn.__doc__
        return make

    return wrap


TYPE_WORDS = {
    "text": "text",
    "number": "a number",
    "bool": "a bool",
    "date": "a date",
    "datetime": "a date-time",
    "list": "a list",
    "priority": "a priority",
    "weekday": "a weekday",
    "string": "a string",
}


def choices(word: str, known: Iterable[str]) -> str | None:
    """ "did you mean …" when a name is close, else the valid values (when few enough)."""
    pool = list(dict.fromkeys(known))
    close = did_you_mean(word, pool)
    if close or not pool:
        return close
    if len(pool) <= 12:
        return "valid values: " + ", ".join(f"`{p}`" for p in pool)
    return None


# ---- files -----------------------------------------------------------------


@_code("syntax-error", "error")
def syntax_error(message: str, hint: str | None) -> tuple[str, str | None]:
    return message, hint


@_code("invalid-encoding", "error")
def invalid_encoding(byte: int) -> tuple[str, str | None]:
    return f"the file is not valid UTF-8 (byte 0x{byte:02x})", "save the file as UTF-8"


@_code("empty-file", "warning")
def empty_file() -> tuple[str, str | None]:
    return "the file declares nothing", "add declarations or remove the file"


@_code("no-level", "error")
def no_files() -> tuple[str, str | None]:
    return "the ruleset has no files", None


@_code("no-level", "error")
def no_level() -> tuple[str, str | None]:
    return "the ruleset declares no `level`", "declare at least one `level NAME { … }`"


# ---- names and declarations ------------------------------------------------------


@_code("duplicate-declaration", "error")
def duplicate_declaration(what: str, first: str | None = None) -> tuple[str, str | None]:
    return f"a second {what}", (f"the first is at {first}" if first else None)


@_code("reserved-name", "error")
def reserved_name(name: str, kind: str) -> tuple[str, str | None]:
    return f"`{name}` is a reserved word and cannot name a {kind}", None


@_code("reserved-name", "error")
def default_level_none() -> tuple[str, str | None]:
    return (
        "`default level none` is not allowed",
        "omit the `default level` line: tickets no rule matches get no SLA",
    )


@_code("reserved-name", "error")
def rule_titled_default() -> tuple[str, str | None]:
    return 'a rule cannot be titled "default"', "`default` names the default level in decisions"


@_code("duplicate-name", "error")
def duplicate_name(
    what: str, first: str | None = None, hint: str | None = None
) -> tuple[str, str | None]:
    return f"{what} is declared twice", hint or (f"the first is at {first}" if first else None)


@_code("duplicate-name", "error")
def listed_twice(value: str) -> tuple[str, str | None]:
    return f"`{value}` is listed twice", None


@_code("duplicate-name", "error")
def builtin_field(name: str) -> tuple[str, str | None]:
    return f"`{name}` is a built-in field", "choose another name for the custom field"


@_code("duplicate-name", "error")
def status_twice(status: str, category: str) -> tuple[str, str | None]:
    return (
        f"status `{status}` is already in category `{category}`",
        "a status belongs to exactly one category",
    )


@_code("missing-category", "warning")
def missing_category(category: str) -> tuple[str, str | None]:
    return (
        f"`statuses` has no `{category}` category",
        f'add `{category} = "…"`; unknown statuses count as open',
    )


@_code("unknown-timezone", "error")
def unknown_timezone(zone: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown time zone `{zone}`", did_you_mean(zone, known)


# ---- calendars ----------------------------------------------------------------------


@_code("missing-timezone", "error")
def missing_timezone(calendar: str) -> tuple[str, str | None]:
    return f"calendar `{calendar}` has no `timezone`", 'add a line like `timezone "Europe/Berlin"`'


@_code("invalid-date", "error")
def invalid_date(raw: str, what: str = "date") -> tuple[str, str | None]:
    return f"`{raw}` is not a valid {what}", None


@_code("invalid-time-range", "error")
def backwards_days(start: str, end: str) -> tuple[str, str | None]:
    return f"day range `{start}-{end}` runs backwards", f"write `{start}-sun, mon-{end}`"


@_code("invalid-time-range", "error")
def not_a_clock_time(raw: str) -> tuple[str, str | None]:
    return f"`{raw}` is not a clock time", "use 00:00 to 24:00"


@_code("invalid-time-range", "error")
def range_ends_before_start(start: str, end: str) -> tuple[str, str | None]:
    return (
        f"`{start}-{end}` ends before it starts",
        "a range must end after it starts; use 24:00 for midnight",
    )


@_code("overlapping-hours", "error")
def overlapping_hours(start: str, end: str) -> tuple[str, str | None]:
    return f"`{start}-{end}` overlaps an earlier range on the same day", None


@_code("unknown-country", "error")
def unknown_country(code: str, hint: str | None) -> tuple[str, str | None]:
    return f"`{code}` is not a country code of the holidays package", hint


@_code("unknown-subdivision", "error")
def unknown_subdivision(sub: str, country: str, hint: str | None) -> tuple[str, str | None]:
    return f"`{sub}` is not a subdivision of `{country}`", hint


@_code("unknown-calendar", "error")
def unknown_calendar(name: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown calendar `{name}`", choices(name, known)


# ---- levels ----------------------------------------------------------------------------


@_code("invalid-percent", "error")
def percent_out_of_range(raw: str) -> tuple[str, str | None]:
    return (
        f"`{raw}` is not between 0% and 100%",
        "warn at a percentage greater than 0 and less than 100",
    )


@_code("invalid-percent", "error")
def percent_repeated(raw: str) -> tuple[str, str | None]:
    return f"`{raw}` is repeated", None


@_code("invalid-duration", "error")
def not_positive(raw: str) -> tuple[str, str | None]:
    return f"`{raw}` is not a duration greater than zero", None


@_code("invalid-duration", "error")
def warn_before_repeated(raw: str) -> tuple[str, str | None]:
    return f"`warn before {raw}` is repeated", None


@_code("day-duration-business-calendar", "warning")
def day_duration(raw: str, calendar: str) -> tuple[str, str | None]:
    return (
        f"`{raw}` counts days of 24 business hours in calendar `{calendar}`, "
        "which is not open around the clock",
        "write the business hours instead, e.g. `9h` for one 9-hour day",
    )


@_code("warn-before-exceeds-target", "warning")
def warn_before_exceeds(raw: str, metric: str) -> tuple[str, str | None]:
    return (
        f"`warn before {raw}` is not shorter than a `{metric}` target, "
        "so that target gets no such warning",
        None,
    )


@_code("duplicate-target", "error")
def duplicate_target(level: str, metric: str) -> tuple[str, str | None]:
    return (
        f"level `{level}` already has a `{metric}` target",
        "one plain or `by` target plus one `by source` table without `else` may be combined",
    )


@_code("duplicate-key", "error")
def duplicate_key(key: str) -> tuple[str, str | None]:
    return f"key `{key}` appears twice in the table", None


@_code("unknown-level", "error")
def unknown_level(name: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown level `{name}`", choices(name, known)


@_code("unused-level", "warning")
def unused_level(name: str) -> tuple[str, str | None]:
    return f"level `{name}` is not the default and no rule sets it", None


@_code("unused-calendar", "warning")
def unused_calendar(name: str) -> tuple[str, str | None]:
    return f"calendar `{name}` is not used", None


# ---- rules -----------------------------------------------------------------------------


@_code("unreachable-rule", "error")
def unreachable_rule(title: str, stopper: str, where: str) -> tuple[str, str | None]:
    return (
        f'rule "{title}" can never run',
        f'rule "{stopper}" ({where}) has no `when` and stops',
    )


@_code("overwritten-level", "warning")
def overwritten_level(title: str, later: str) -> tuple[str, str | None]:
    return (
        f'the level set by rule "{title}" is always replaced by rule "{later}"',
        "add `stop` to this rule or a `when` to the later one",
    )


# ---- conditions ------------------------------------------------------------------------


@_code("unknown-field", "error")
def unknown_field(name: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown field `{name}`", did_you_mean(name, known)


@_code("unknown-field", "error")
def unknown_part(text: str, part: str) -> tuple[str, str | None]:
    return (
        f"unknown field part `{text}`",
        did_you_mean(part, ["weekday", "hour"]) or "fields have the parts `.weekday` and `.hour`",
    )


@_code("unknown-priority", "error")
def unknown_priority(value: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown priority `{value}`", choices(value, known)


@_code("unknown-source", "error")
def unknown_source(value: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown source `{value}`", choices(value, known)


@_code("unknown-status", "error")
def unknown_status(value: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown status `{value}`", choices(value, known)


@_code("unknown-weekday", "error")
def unknown_weekday(value: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown weekday `{value}`", choices(value, known)


UNKNOWN_VALUE = {
    "priority": unknown_priority,
    "source": unknown_source,
    "status": unknown_status,
    "weekday": unknown_weekday,
}


@_code("type-mismatch", "error")
def type_mismatch(message: str, hint: str | None = None) -> tuple[str, str | None]:
    """The many shapes of a type mismatch; the wording is built by the helpers below."""
    return message, hint


def part_needs(text: str, part: str, name: str, base: str) -> Msg:
    need = "a date or date-time" if part == "weekday" else "a date-time"
    return type_mismatch(f"`{text}`: `.{part}` needs {need} field, `{name}` is {TYPE_WORDS[base]}")


def needs_type(what: str, need: str, left: str, ltype: str, hint: str | None = None) -> Msg:
    return type_mismatch(f"`{what}` needs {need}, `{left}` is {TYPE_WORDS[ltype]}", hint)


def not_a_bool(left: str, ltype: str) -> Msg:
    return type_mismatch(
        f"`{left}` is {TYPE_WORDS[ltype]}, not a bool",
        f"to test that it has a value, write `{left} is set`",
    )


def cannot_compare(op: str, left: str, ltype: str, hint: str | None) -> Msg:
    return type_mismatch(f"`{op}` cannot compare {TYPE_WORDS[ltype]} (`{left}`)", hint)


def cannot_test(op: str, left: str, ltype: str, hint: str | None) -> Msg:
    return type_mismatch(f"`{op}` cannot test {TYPE_WORDS[ltype]} (`{left}`)", hint)


def fields_differ(left: str, ltype: str, right: str, rtype: str) -> Msg:
    return type_mismatch(f"`{left}` is {TYPE_WORDS[ltype]} but `{right}` is {TYPE_WORDS[rtype]}")


def literal_differs(left: str, ltype: str, kind: str, hint: str | None) -> Msg:
    return type_mismatch(f"`{left}` is {TYPE_WORDS[ltype]}, not {TYPE_WORDS[kind]}", hint)


def table_key_type(name: str, ftype: str) -> Msg:
    return type_mismatch(
        f"`by {name}`: a target table is keyed by a text or priority field, not {TYPE_WORDS[ftype]}"
    )


@_code("invalid-regex", "error")
def invalid_regex(raw: str, detail: str) -> tuple[str, str | None]:
    return (
        f"invalid regex {raw}: {detail}",
        "patterns use RE2 syntax (no look-around, no backreferences)",
    )


@_code("regex-too-complex", "error")
def regex_too_complex(raw: str, size: int, limit: int) -> tuple[str, str | None]:
    return (
        f"regex {raw} is too complex (RE2 program size {size}, at most {limit})",
        "split it into several `matches` joined with `or`, or bound the repetitions",
    )


# ---- limits (language.md §Limits) ----------------------------------------------------


@_code("file-too-large", "error")
def file_too_large(nbytes: int, limit: int) -> tuple[str, str | None]:
    return (
        f"the file has {nbytes:,} bytes; a rules file may have at most {limit:,}",
        "split the ruleset into several files",
    )


@_code("ruleset-too-large", "error")
def ruleset_too_large(total: int, limit: int) -> tuple[str, str | None]:
    return (
        f"the ruleset's files have {total:,} bytes together; at most {limit:,} are allowed",
        "remove unused rules, levels or comments",
    )


@_code("nesting-too-deep", "error")
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


@_code("number-too-long", "error")
def number_too_long(token: str, limit: int) -> tuple[str, str | None]:
    return (
        f"`{token[:20]}…` has more than {limit} digits",
        f"numbers, durations and percentages have at most {limit} digits",
    )


@_code("condition-too-long", "error")
def condition_too_long(terms: int, limit: int) -> tuple[str, str | None]:
    return (
        f"the condition has {terms} comparisons; at most {limit} are allowed",
        "use a list (`field in [...]`, `contains any [...]`) or split it over several rules",
    )


@_code("too-many-rules", "error")
def too_many_rules(limit: int) -> tuple[str, str | None]:
    return (
        f"a ruleset may have at most {limit} rules",
        "use lists (`in [...]`) or tables (`by FIELD { ... }`) instead of one rule per value",
    )


@_code("duration-too-long", "error")
def duration_too_long(raw: str, limit: str, hours: int) -> tuple[str, str | None]:
    return (
        f"`{raw}` is longer than the maximum duration {limit} ({hours}h)",
        f"durations are at most {limit}",
    )


@_code("target-out-of-range", "error")
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


@_code("cannot-compile", "error")
def cannot_compile(error: str) -> tuple[str, str | None]:
    """A ruleset that passed every check but did not compile (a bug, never a crash)."""
    return (
        f"the ruleset passed its checks but could not be compiled ({error})"[:300],
        "simplify the conditions named in the message and report this as a bug",
    )


# ---- analysis (`check --analyze`) ----------------------------------------------------------


@_code("shadowed-rule", "warning")
def shadowed_rule(title: str, by: list[str]) -> tuple[str, str | None]:
    names = ", ".join(f'"{t}"' for t in by) or "earlier or later rules"
    return (
        f'rule "{title}" never decides the level: every ticket it matches is decided by {names}',
        "remove the rule, move it before the rules that shadow it, or add `stop`",
    )


@_code("dead-condition", "warning")
def dead_condition(text: str) -> tuple[str, str | None]:
    return f"no ticket can satisfy `{text}`", "the values contradict each other or the schema"


@_code("always-true", "warning")
def always_true(text: str) -> tuple[str, str | None]:
    return f"every ticket satisfies `{text}`", "drop the `when`: the rule always matches"


@_code("falls-through", "info")
def falls_through(described: str, level: str | None) -> tuple[str, str | None]:
    gets = f"the default level `{level}`" if level else "no level (there is no `default level`)"
    return f"no rule sets a level for tickets with {described}; they get {gets}", None


@_code("missing-target", "warning")
def missing_target(level: str, metric: str, described: str) -> tuple[str, str | None]:
    return (
        f"level `{level}` has no `{metric}` target for tickets with {described}",
        "add a row for these values or an `else` row to the table",
    )


@_code("stop-cuts-nothing", "warning")
def stop_cuts_nothing(title: str) -> tuple[str, str | None]:
    return (
        f'the `stop` of rule "{title}" changes no decision: no later rule would set a level',
        "remove `stop` or keep it as a guard against rules added later",
    )


@_code("not-decided", "info")
def not_decided(what: str, why: str) -> tuple[str, str | None]:
    return f"the analysis cannot decide whether {what}", why


def codes() -> frozenset[str]:
    return frozenset(REGISTRY)


def make(code: str, message: str, hint: str | None = None, **_: Any) -> Msg:
    """A registered code with free wording (for callers outside this module's situations)."""
    return Msg(code, REGISTRY[code], message, hint)
