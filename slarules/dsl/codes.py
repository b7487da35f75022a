"""Every diagnostic's code, severity and wording, in one place (as cel-go's `typeErrors`).

One function per situation; each is registered under its code, so
`REGISTRY` is the complete set of codes the language reports (a test checks
it against language.md §Checking) once the two other code modules are imported:
`limit_codes` (the language's limits, §Limits) and `analysis.messages`
(`check --analyze`'s findings). The checker, the parser's callers and the
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


def code(
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


@code("syntax-error", "error")
def syntax_error(message: str, hint: str | None) -> tuple[str, str | None]:
    return message, hint


@code("invalid-encoding", "error")
def invalid_encoding(byte: int) -> tuple[str, str | None]:
    return f"the file is not valid UTF-8 (byte 0x{byte:02x})", "save the file as UTF-8"


@code("empty-file", "warning")
def empty_file() -> tuple[str, str | None]:
    return "the file declares nothing", "add declarations or remove the file"


@code("no-level", "error")
def no_files() -> tuple[str, str | None]:
    return "the ruleset has no files", None


@code("no-level", "error")
def no_level() -> tuple[str, str | None]:
    return "the ruleset declares no `level`", "declare at least one `level NAME { … }`"


# ---- names and declarations ------------------------------------------------------


@code("duplicate-declaration", "error")
def duplicate_declaration(what: str, first: str | None = None) -> tuple[str, str | None]:
    return f"a second {what}", (f"the first is at {first}" if first else None)


@code("reserved-name", "error")
def reserved_name(name: str, kind: str) -> tuple[str, str | None]:
    return f"`{name}` is a reserved word and cannot name a {kind}", None


@code("reserved-name", "error")
def default_level_none() -> tuple[str, str | None]:
    return (
        "`default level none` is not allowed",
        "omit the `default level` line: tickets no rule matches get no SLA",
    )


@code("reserved-name", "error")
def rule_titled_default() -> tuple[str, str | None]:
    return 'a rule cannot be titled "default"', "`default` names the default level in decisions"


@code("duplicate-name", "error")
def duplicate_name(
    what: str, first: str | None = None, hint: str | None = None
) -> tuple[str, str | None]:
    return f"{what} is declared twice", hint or (f"the first is at {first}" if first else None)


@code("duplicate-name", "error")
def listed_twice(value: str) -> tuple[str, str | None]:
    return f"`{value}` is listed twice", None


@code("duplicate-name", "error")
def builtin_field(name: str) -> tuple[str, str | None]:
    return f"`{name}` is a built-in field", "choose another name for the custom field"


@code("duplicate-name", "error")
def status_twice(status: str, category: str) -> tuple[str, str | None]:
    return (
        f"status `{status}` is already in category `{category}`",
        "a status belongs to exactly one category",
    )


@code("missing-category", "warning")
def missing_category(category: str) -> tuple[str, str | None]:
    return (
        f"`statuses` has no `{category}` category",
        f'add `{category} = "…"`; unknown statuses count as open',
    )


@code("unknown-timezone", "error")
def unknown_timezone(zone: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown time zone `{zone}`", did_you_mean(zone, known)


# ---- calendars ----------------------------------------------------------------------


@code("missing-timezone", "error")
def missing_timezone(calendar: str) -> tuple[str, str | None]:
    return f"calendar `{calendar}` has no `timezone`", 'add a line like `timezone "Europe/Berlin"`'


@code("invalid-date", "error")
def invalid_date(raw: str, what: str = "date") -> tuple[str, str | None]:
    return f"`{raw}` is not a valid {what}", None


@code("invalid-time-range", "error")
def backwards_days(start: str, end: str) -> tuple[str, str | None]:
    return f"day range `{start}-{end}` runs backwards", f"write `{start}-sun, mon-{end}`"


@code("invalid-time-range", "error")
def not_a_clock_time(raw: str) -> tuple[str, str | None]:
    return f"`{raw}` is not a clock time", "use 00:00 to 24:00"


@code("invalid-time-range", "error")
def range_ends_before_start(start: str, end: str) -> tuple[str, str | None]:
    return (
        f"`{start}-{end}` ends before it starts",
        "a range must end after it starts; use 24:00 for midnight",
    )


@code("overlapping-hours", "error")
def overlapping_hours(start: str, end: str) -> tuple[str, str | None]:
    return f"`{start}-{end}` overlaps an earlier range on the same day", None


@code("unknown-country", "error")
def unknown_country(code: str, hint: str | None) -> tuple[str, str | None]:
    return f"`{code}` is not a country code of the holidays package", hint


@code("unknown-subdivision", "error")
def unknown_subdivision(sub: str, country: str, hint: str | None) -> tuple[str, str | None]:
    return f"`{sub}` is not a subdivision of `{country}`", hint


@code("unknown-calendar", "error")
def unknown_calendar(name: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown calendar `{name}`", choices(name, known)


# ---- levels ----------------------------------------------------------------------------


@code("invalid-percent", "error")
def percent_out_of_range(raw: str) -> tuple[str, str | None]:
    return (
        f"`{raw}` is not between 0% and 100%",
        "warn at a percentage greater than 0 and less than 100",
    )


@code("invalid-percent", "error")
def percent_repeated(raw: str) -> tuple[str, str | None]:
    return f"`{raw}` is repeated", None


@code("invalid-duration", "error")
def not_positive(raw: str) -> tuple[str, str | None]:
    return f"`{raw}` is not a duration greater than zero", None


@code("invalid-duration", "error")
def warn_before_repeated(raw: str) -> tuple[str, str | None]:
    return f"`warn before {raw}` is repeated", None


@code("day-duration-business-calendar", "warning")
def day_duration(raw: str, calendar: str) -> tuple[str, str | None]:
    return (
        f"`{raw}` counts days of 24 business hours in calendar `{calendar}`, "
        "which is not open around the clock",
        "write the business hours instead, e.g. `9h` for one 9-hour day",
    )


@code("warn-before-exceeds-target", "warning")
def warn_before_exceeds(raw: str, metric: str) -> tuple[str, str | None]:
    return (
        f"`warn before {raw}` is not shorter than a `{metric}` target, "
        "so that target gets no such warning",
        None,
    )


@code("duplicate-target", "error")
def duplicate_target(level: str, metric: str) -> tuple[str, str | None]:
    return (
        f"level `{level}` already has a `{metric}` target",
        "one plain or `by` target plus one `by source` table without `else` may be combined",
    )


@code("duplicate-key", "error")
def duplicate_key(key: str) -> tuple[str, str | None]:
    return f"key `{key}` appears twice in the table", None


@code("unknown-level", "error")
def unknown_level(name: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown level `{name}`", choices(name, known)


@code("unused-level", "warning")
def unused_level(name: str) -> tuple[str, str | None]:
    return f"level `{name}` is not the default and no rule sets it", None


@code("unused-calendar", "warning")
def unused_calendar(name: str) -> tuple[str, str | None]:
    return f"calendar `{name}` is not used", None


# ---- rules -----------------------------------------------------------------------------


@code("unreachable-rule", "error")
def unreachable_rule(title: str, stopper: str, where: str) -> tuple[str, str | None]:
    return (
        f'rule "{title}" can never run',
        f'rule "{stopper}" ({where}) has no `when` and stops',
    )


@code("overwritten-level", "warning")
def overwritten_level(title: str, later: str) -> tuple[str, str | None]:
    return (
        f'the level set by rule "{title}" is always replaced by rule "{later}"',
        "add `stop` to this rule or a `when` to the later one",
    )


# ---- conditions ------------------------------------------------------------------------


@code("unknown-field", "error")
def unknown_field(name: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown field `{name}`", did_you_mean(name, known)


@code("unknown-field", "error")
def unknown_part(text: str, part: str) -> tuple[str, str | None]:
    return (
        f"unknown field part `{text}`",
        did_you_mean(part, ["weekday", "hour"]) or "fields have the parts `.weekday` and `.hour`",
    )


@code("unknown-priority", "error")
def unknown_priority(value: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown priority `{value}`", choices(value, known)


@code("unknown-source", "error")
def unknown_source(value: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown source `{value}`", choices(value, known)


@code("unknown-status", "error")
def unknown_status(value: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown status `{value}`", choices(value, known)


@code("unknown-weekday", "error")
def unknown_weekday(value: str, known: Iterable[str]) -> tuple[str, str | None]:
    return f"unknown weekday `{value}`", choices(value, known)


UNKNOWN_VALUE = {
    "priority": unknown_priority,
    "source": unknown_source,
    "status": unknown_status,
    "weekday": unknown_weekday,
}


@code("type-mismatch", "error")
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


@code("invalid-regex", "error")
def invalid_regex(raw: str, detail: str) -> tuple[str, str | None]:
    return (
        f"invalid regex {raw}: {detail}",
        "patterns use RE2 syntax (no look-around, no backreferences)",
    )


@code("regex-too-complex", "error")
def regex_too_complex(raw: str, size: int, limit: int) -> tuple[str, str | None]:
    return (
        f"regex {raw} is too complex (RE2 program size {size}, at most {limit})",
        "split it into several `matches` joined with `or`, or bound the repetitions",
    )


def codes() -> frozenset[str]:
    return frozenset(REGISTRY)


def make(code: str, message: str, hint: str | None = None, **_: Any) -> Msg:
    """A registered code with free wording (for callers outside this module's situations)."""
    return Msg(code, REGISTRY[code], message, hint)
