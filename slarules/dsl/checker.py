"""Semantic checks over every parsed file of a ruleset: all problems in one run.

`check(files)` returns the diagnostics and a `Model` (resolved names, schema,
calendar specs, levels and rules in order) that the compiler turns into a
`Policy` when there are no errors. Codes and wording follow language.md
§Checking; extra codes where the spec is silent: `invalid-date` (a date or
date-time that does not exist), `missing-timezone` (a calendar without
`timezone`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slarules.dsl import ast
from slarules.dsl.names import BUILTIN_FIELDS, DAYS, DEFAULT_PRIORITIES, RESERVED, did_you_mean
from slarules.dsl.regex import RegexError, compile_regex
from slarules.engine.calendar import CalendarSpec
from slarules.engine.policy import DEFAULT_STATUSES, Category, fold
from slarules.errors import Diagnostic


@dataclass(frozen=True, slots=True)
class ParsedFile:
    name: str
    module: ast.Module
    lines: tuple[str, ...]


@dataclass
class Model:
    """What the compiler needs, resolved and checked."""

    timezone: str = "UTC"
    priorities: tuple[str, ...] = DEFAULT_PRIORITIES
    sources: tuple[str, ...] | None = None
    fields: dict[str, str] = field(default_factory=lambda: dict(BUILTIN_FIELDS))
    statuses: dict[str, Category] = field(default_factory=lambda: dict(DEFAULT_STATUSES))
    calendars: dict[str, CalendarSpec] = field(default_factory=dict)
    levels: list[tuple[str, ast.LevelDecl]] = field(default_factory=list)
    default_level: str | None = None
    rules: list[tuple[str, ast.RuleDecl]] = field(default_factory=list)


@functools.cache
def _timezones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


@functools.cache
def _countries() -> dict[str, list[str]]:
    import holidays

    return dict(holidays.list_supported_countries())


@functools.cache
def _subdivision_aliases(country: str) -> dict[str, str]:
    import holidays

    try:
        return dict(holidays.country_holidays(country).subdivisions_aliases)
    except Exception:  # an odd country class: no aliases
        return {}


_ORDERED = {"number", "date", "datetime", "priority", "weekday"}
_EQUALITY = {"text", "number", "bool", "date", "datetime", "priority", "weekday"}
_MEMBERSHIP = {"text", "number", "priority", "weekday"}
_LIT_TYPE = {
    ast.Str: "string",
    ast.Num: "number",
    ast.Bool: "bool",
    ast.DateLit: "date",
    ast.DateTimeLit: "datetime",
}
_TYPE_WORDS = {
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


def is_always_open(spec: CalendarSpec) -> bool:
    return all(spec.hours.get(d) == ((0, 1440),) for d in range(7))


class Checker:
    def __init__(self, files: Sequence[ParsedFile]) -> None:
        self.files = files
        self.diags: list[Diagnostic] = []
        self.model = Model()
        self.used_calendars: set[str] = set()
        self._lines: dict[str, tuple[str, ...]] = {f.name: f.lines for f in files}

    # ---- reporting ----------------------------------------------------------

    def report(
        self,
        severity: str,
        file: str,
        span: ast.Span,
        code: str,
        message: str,
        hint: str | None = None,
    ) -> None:
        lines = self._lines.get(file, ())
        line = span.line if span.line > 0 else None
        col = span.column if span.line > 0 else None
        src = lines[span.line - 1] if line and span.line - 1 < len(lines) else None
        self.diags.append(
            Diagnostic(
                "error" if severity == "error" else "warning",
                code,
                message,
                file,
                line,
                col,
                hint,
                src,
            )
        )

    def error(
        self, file: str, span: ast.Span, code: str, message: str, hint: str | None = None
    ) -> None:
        self.report("error", file, span, code, message, hint)

    def warn(
        self, file: str, span: ast.Span, code: str, message: str, hint: str | None = None
    ) -> None:
        self.report("warning", file, span, code, message, hint)

    # ---- driver ---------------------------------------------------------------

    def run(self) -> tuple[list[Diagnostic], Model]:
        decls: dict[type, list[tuple[str, Any]]] = {}
        for f in self.files:
            for d in f.module.decls:
                decls.setdefault(type(d), []).append((f.name, d))
        self._singletons(decls)
        for file, d in decls.get(ast.TimezoneDecl, [])[:1]:
            if self._zone(file, d.zone):
                self.model.timezone = d.zone.value
        for file, d in decls.get(ast.SchemaDecl, [])[:1]:
            self._schema(file, d)
        for file, d in decls.get(ast.StatusesDecl, [])[:1]:
            self._statuses(file, d)
        seen: dict[str, tuple[str, ast.Span]] = {}
        for file, d in decls.get(ast.CalendarDecl, []):
            if self._new_name(file, d.name, seen, "calendar"):
                spec = self._calendar(file, d)
                if spec is not None:
                    self.model.calendars[d.name.value] = spec
        level_names: dict[str, tuple[str, ast.Span]] = {}
        for file, d in decls.get(ast.LevelDecl, []):
            if self._new_name(file, d.name, level_names, "level"):
                self.model.levels.append((file, d))
        for file, d in decls.get(ast.LevelDecl, []):
            self._level(file, d)
        if not decls.get(ast.LevelDecl):
            first = self.files[0].name if self.files else None
            self.diags.append(
                Diagnostic(
                    "error",
                    "no-level",
                    "the ruleset declares no `level`",
                    first,
                    hint="declare at least one `level NAME { … }`",
                )
            )
        for file, d in decls.get(ast.DefaultDecl, [])[:1]:
            name = d.level.value
            if name == "none":
                self.error(
                    file,
                    d.level.span,
                    "reserved-name",
                    "`default level none` is not allowed",
                    "omit the `default level` line: tickets no rule matches get no SLA",
                )
            elif self._level_ref(file, d.level):
                self.model.default_level = name
        self._rules(decls.get(ast.RuleDecl, []))
        self._unused(level_names, seen)
        self.diags.sort(key=Diagnostic.sort_key)
        return self.diags, self.model

    def _singletons(self, decls: dict[type, list[tuple[str, Any]]]) -> None:
        words = {
            ast.TimezoneDecl: "timezone",
            ast.SchemaDecl: "schema",
            ast.StatusesDecl: "statuses",
            ast.DefaultDecl: "default level",
        }
        for kind, word in words.items():
            items = decls.get(kind, [])
            first_file, first = items[0] if items else ("", None)
            for file, d in items[1:]:
                assert first is not None
                self.error(
                    file,
                    d.span,
                    "duplicate-declaration",
                    f"a second `{word}` declaration",
                    f"the first is at {first_file}:{first.span.line}",
                )

    def _new_name(
        self, file: str, name: ast.Name, seen: dict[str, tuple[str, ast.Span]], kind: str
    ) -> bool:
        if name.value in RESERVED:
            self.error(
                file,
                name.span,
                "reserved-name",
                f"`{name.value}` is a reserved word and cannot name a {kind}",
            )
            return False
        if name.value in seen:
            f0, s0 = seen[name.value]
            self.error(
                file,
                name.span,
                "duplicate-name",
                f"{kind} `{name.value}` is declared twice",
                f"the first is at {f0}:{s0.line}",
            )
            return False
        seen[name.value] = (file, name.span)
        return True

    # ---- schema, statuses -----------------------------------------------------

    def _zone(self, file: str, zone: ast.Str) -> bool:
        if zone.value in _timezones():
            return True
        self.error(
            file,
            zone.span,
            "unknown-timezone",
            f"unknown time zone `{zone.value}`",
            did_you_mean(zone.value, sorted(_timezones())),
        )
        return False

    def _schema(self, file: str, d: ast.SchemaDecl) -> None:
        firsts: dict[type, ast.SchemaItem] = {}
        for item in d.items:
            if isinstance(item, ast.FieldStmt):
                self._custom_field(file, item)
                continue
            if type(item) in firsts:
                word = "priorities" if isinstance(item, ast.PrioritiesStmt) else "sources"
                self.error(
                    file,
                    item.span,
                    "duplicate-declaration",
                    f"a second `{word}` line in `schema`",
                    f"the first is at line {firsts[type(item)].span.line}",
                )
                continue
            firsts[type(item)] = item
            names = self._unique_keys(file, item.names)
            if isinstance(item, ast.PrioritiesStmt):
                self.model.priorities = names
            else:
                self.model.sources = names

    def _unique_keys(self, file: str, keys: Sequence[ast.Key]) -> tuple[str, ...]:
        out: dict[str, str] = {}
        for k in keys:
            if fold(k.value) in out:
                self.error(file, k.span, "duplicate-name", f"`{k.value}` is listed twice")
            else:
                out[fold(k.value)] = k.value
        return tuple(out.values())

    def _custom_field(self, file: str, item: ast.FieldStmt) -> None:
        name = item.name.value
        if name in RESERVED:
            self.error(
                file,
                item.name.span,
                "reserved-name",
                f"`{name}` is a reserved word and cannot name a field",
            )
        elif name in BUILTIN_FIELDS:
            self.error(
                file,
                item.name.span,
                "duplicate-name",
                f"`{name}` is a built-in field",
                "choose another name for the custom field",
            )
        elif name in self.model.fields:
            self.error(file, item.name.span, "duplicate-name", f"field `{name}` is declared twice")
        else:
            self.model.fields[name] = item.type

    def _statuses(self, file: str, d: ast.StatusesDecl) -> None:
        statuses: dict[str, Category] = {}
        for item in d.items:
            category: Category = item.category  # type: ignore[assignment]
            for s in item.names:
                key = fold(s.value)
                if key in statuses:
                    self.error(
                        file,
                        s.span,
                        "duplicate-name",
                        f"status `{s.value}` is already in category `{statuses[key]}`",
                        "a status belongs to exactly one category",
                    )
                else:
                    statuses[key] = category
        present = {i.category for i in d.items}
        for needed in ("open", "done"):
            if needed not in present:
                self.warn(
                    file,
                    d.span,
                    "missing-category",
                    f"`statuses` has no `{needed}` category",
                    f'add `{needed} = "…"`; unknown statuses count as open',
                )
        self.model.statuses = statuses

    # ---- calendars ------------------------------------------------------------

    def _calendar(self, file: str, d: ast.CalendarDecl) -> CalendarSpec | None:
        zone: str | None = None
        zone_seen = False
        ok = True
        hours: dict[int, list[tuple[int, int]]] = {}
        hols: list[tuple[str, str | None]] = []
        closed: set[Any] = set()
        for item in d.items:
            if isinstance(item, ast.CalTimezone):
                if zone_seen:
                    self.error(
                        file,
                        item.span,
                        "duplicate-declaration",
                        f"calendar `{d.name.value}` has a second `timezone`",
                    )
                    continue
                zone_seen = True
                if self._zone(file, item.zone):
                    zone = item.zone.value
                else:
                    ok = False
            elif isinstance(item, ast.HoursStmt):
                ok = self._hours(file, item, hours) and ok
            elif isinstance(item, ast.HolidaysStmt):
                pair = self._holidays(file, item)
                if pair is None:
                    ok = False
                elif pair not in hols:
                    hols.append(pair)
            elif isinstance(item, ast.ClosedStmt):
                if item.day.value is None:
                    self.error(
                        file, item.day.span, "invalid-date", f"`{item.day.raw}` is not a date"
                    )
                    ok = False
                else:
                    closed.add(item.day.value)
        if not zone_seen:
            self.error(
                file,
                d.name.span,
                "missing-timezone",
                f"calendar `{d.name.value}` has no `timezone`",
                'add a line like `timezone "Europe/Berlin"`',
            )
            return None
        if not ok or zone is None:
            return None
        merged = {day: _merge(ranges) for day, ranges in hours.items() if ranges}
        return CalendarSpec(d.name.value, zone, merged, tuple(hols), frozenset(closed))

    def _hours(
        self, file: str, item: ast.HoursStmt, hours: dict[int, list[tuple[int, int]]]
    ) -> bool:
        ok = True
        days: list[int] = []
        for di in item.days:
            a = DAYS.index(di.start.value)
            b = DAYS.index(di.end.value) if di.end is not None else a
            if b < a:
                assert di.end is not None
                self.error(
                    file,
                    di.span,
                    "invalid-time-range",
                    f"day range `{di.start.value}-{di.end.value}` runs backwards",
                    f"write `{di.start.value}-sun, mon-{di.end.value}`",
                )
                ok = False
                continue
            days.extend(range(a, b + 1))
        for r in item.ranges:
            bad = False
            for t in (r.start, r.end):
                if t.minutes is None:
                    self.error(
                        file,
                        t.span,
                        "invalid-time-range",
                        f"`{t.raw}` is not a clock time",
                        "use 00:00 to 24:00",
                    )
                    bad = True
            if bad:
                ok = False
                continue
            assert r.start.minutes is not None and r.end.minutes is not None
            s, e = r.start.minutes, r.end.minutes
            if s >= e:
                self.error(
                    file,
                    r.span,
                    "invalid-time-range",
                    f"`{r.start.raw}-{r.end.raw}` ends before it starts",
                    "a range must end after it starts; use 24:00 for midnight",
                )
                ok = False
                continue
            clash = False
            for day in days:
                existing = hours.setdefault(day, [])
                if any(s < e2 and s2 < e for s2, e2 in existing):
                    clash = True
                existing.append((s, e))
            if clash:
                self.error(
                    file,
                    r.span,
                    "overlapping-hours",
                    f"`{r.start.raw}-{r.end.raw}` overlaps an earlier range on the same day",
                )
                ok = False
        return ok

    def _holidays(self, file: str, item: ast.HolidaysStmt) -> tuple[str, str | None] | None:
        countries = _countries()
        code = item.country.value
        if code not in countries:
            self.error(
                file,
                item.country.span,
                "unknown-country",
                f"`{code}` is not a country code of the holidays package",
                did_you_mean(code, sorted(countries)),
            )
            return None
        if item.subdivision is None:
            return (code, None)
        sub = item.subdivision.value
        subs = list(countries[code])
        if sub in subs:
            return (code, sub)
        aliases = _subdivision_aliases(code)
        if sub in aliases:
            return (code, aliases[sub])
        self.error(
            file,
            item.subdivision.span,
            "unknown-subdivision",
            f"`{sub}` is not a subdivision of `{code}`",
            did_you_mean(sub, subs + list(aliases))
            or (
                f"subdivisions of `{code}`: " + ", ".join(subs[:20])
                if subs
                else f"`{code}` has no subdivisions"
            ),
        )
        return None

    # ---- levels ---------------------------------------------------------------

    def _level(self, file: str, d: ast.LevelDecl) -> None:
        singles: dict[type, ast.LevelItem] = {}
        calendar: CalendarSpec | None = None
        cal_known = True
        targets: dict[str, list[ast.TargetStmt]] = {}
        percents: set[float] = set()
        befores: list[ast.Duration] = []
        durations: list[ast.Duration] = []
        for item in d.items:
            if isinstance(item, ast.TitleStmt | ast.LevelCalendar):
                if type(item) in singles:
                    word = "title" if isinstance(item, ast.TitleStmt) else "calendar"
                    self.error(
                        file,
                        item.span,
                        "duplicate-declaration",
                        f"level `{d.name.value}` has a second `{word}`",
                    )
                    continue
                singles[type(item)] = item
                if isinstance(item, ast.LevelCalendar):
                    name = item.calendar.value
                    self.used_calendars.add(name)
                    if name == "always":
                        calendar = None
                    elif name in self.model.calendars:
                        calendar = self.model.calendars[name]
                    else:
                        cal_known = False
                        if not self._calendar_declared(name):
                            self._unknown_calendar(file, item.calendar)
            elif isinstance(item, ast.TargetStmt):
                self._target(file, d, item, targets)
                if isinstance(item.value, ast.Duration):
                    durations.append(item.value)
                else:
                    durations.extend(r.duration for r in item.value.rows)
                    if item.value.else_duration is not None:
                        durations.append(item.value.else_duration)
            elif isinstance(item, ast.PauseStmt):
                self.check_condition(file, item.condition)
            elif isinstance(item, ast.WarnAt):
                for p in item.percents:
                    if not 0 < p.value < 100:
                        self.error(
                            file,
                            p.span,
                            "invalid-percent",
                            f"`{p.raw}` is not between 0% and 100%",
                            "warn at a percentage greater than 0 and less than 100",
                        )
                    elif p.value in percents:
                        self.error(file, p.span, "invalid-percent", f"`{p.raw}` is repeated")
                    percents.add(p.value)
            elif isinstance(item, ast.WarnBefore):
                for dur in item.durations:
                    durations.append(dur)
                    if self._positive(file, dur):
                        if any(b.seconds == dur.seconds for b in befores):
                            self.error(
                                file,
                                dur.span,
                                "invalid-duration",
                                f"`warn before {dur.raw}` is repeated",
                            )
                        else:
                            befores.append(dur)
        if cal_known and calendar is not None and not is_always_open(calendar):
            for dur in durations:
                if "d" in dur.raw:
                    self.warn(
                        file,
                        dur.span,
                        "day-duration-business-calendar",
                        f"`{dur.raw}` counts days of 24 business hours in calendar "
                        f"`{calendar.name}`, which is not open around the clock",
                        "write the business hours instead, e.g. `9h` for one 9-hour day",
                    )
        for dur in befores:
            for metric, stmts in targets.items():
                for value in _target_values(stmts):
                    if 0 < value <= dur.seconds:
                        self.warn(
                            file,
                            dur.span,
                            "warn-before-exceeds-target",
                            f"`warn before {dur.raw}` is not shorter than a `{metric}` "
                            "target, so that target gets no such warning",
                        )
                        break
                else:
                    continue
                break

    def _calendar_declared(self, name: str) -> bool:
        return any(
            isinstance(d, ast.CalendarDecl) and d.name.value == name
            for f in self.files
            for d in f.module.decls
        )

    def _unknown_calendar(self, file: str, name: ast.Name) -> None:
        names = [*self.model.calendars, "always"]
        self.error(
            file,
            name.span,
            "unknown-calendar",
            f"unknown calendar `{name.value}`",
            did_you_mean(name.value, names),
        )

    def _positive(self, file: str, dur: ast.Duration) -> bool:
        if dur.seconds <= 0:
            self.error(
                file,
                dur.span,
                "invalid-duration",
                f"`{dur.raw}` is not a duration greater than zero",
            )
            return False
        return True

    def _target(
        self,
        file: str,
        d: ast.LevelDecl,
        item: ast.TargetStmt,
        targets: dict[str, list[ast.TargetStmt]],
    ) -> None:
        metric = item.metric.value
        value = item.value
        if isinstance(value, ast.Duration):
            self._positive(file, value)
        else:
            self._table(file, value)
        prior = targets.setdefault(metric, [])

        def is_source_override(t: ast.TargetStmt) -> bool:
            v = t.value
            return isinstance(v, ast.Table) and v.by.value == "source" and v.else_duration is None

        kinds = [is_source_override(t) for t in prior]
        mine = is_source_override(item)
        if (mine and True in kinds) or (not mine and False in kinds):
            self.error(
                file,
                item.span,
                "duplicate-target",
                f"level `{d.name.value}` already has a `{metric}` target",
                "one plain or `by` target plus one `by source` table without `else` "
                "may be combined",
            )
            return
        prior.append(item)

    def _table(self, file: str, t: ast.Table) -> None:
        name = t.by.value
        ftype = self.model.fields.get(name)
        if ftype is None:
            self.error(
                file,
                t.by.span,
                "unknown-field",
                f"unknown field `{name}`",
                did_you_mean(name, self.model.fields),
            )
        elif ftype not in ("text", "priority"):
            self.error(
                file,
                t.by.span,
                "type-mismatch",
                f"`by {name}`: a target table is keyed by a text or priority field, "
                f"not {_TYPE_WORDS[ftype]}",
            )
        keys: set[str] = set()
        for row in t.rows:
            self._positive(file, row.duration)
            k = fold(row.key.value)
            if k in keys:
                self.error(
                    file,
                    row.key.span,
                    "duplicate-key",
                    f"key `{row.key.value}` appears twice in the table",
                )
            keys.add(k)
            if ftype == "priority":
                self._known_value(file, row.key.span, row.key.value, "priority")
            elif name == "source":
                self._known_value(file, row.key.span, row.key.value, "source")
            elif name == "status":
                self._known_value(file, row.key.span, row.key.value, "status")
        if t.else_duration is not None:
            self._positive(file, t.else_duration)

    def _known_value(self, file: str, span: ast.Span, value: str, kind: str) -> None:
        pool: Iterable[str]
        if kind == "priority":
            pool = self.model.priorities
        elif kind == "source":
            if self.model.sources is None:
                return
            pool = self.model.sources
        elif kind == "status":
            pool = self.model.statuses
        else:
            pool = DAYS
        folded = {fold(p) for p in pool}
        if fold(value) not in folded:
            words = {
                "priority": "priority",
                "source": "source",
                "status": "status",
                "weekday": "weekday",
            }
            self.error(
                file,
                span,
                f"unknown-{kind}",
                f"unknown {words[kind]} `{value}`",
                did_you_mean(value, pool),
            )

    # ---- rules ----------------------------------------------------------------

    def _level_ref(self, file: str, name: ast.Name) -> bool:
        known = {d.name.value for _, d in self.model.levels}
        if name.value in known:
            return True
        declared = any(
            isinstance(d, ast.LevelDecl) and d.name.value == name.value
            for f in self.files
            for d in f.module.decls
        )
        if not declared:
            self.error(
                file,
                name.span,
                "unknown-level",
                f"unknown level `{name.value}`",
                did_you_mean(name.value, sorted(known)),
            )
        return False

    def _rules(self, rules: list[tuple[str, ast.RuleDecl]]) -> None:
        titles: dict[str, tuple[str, int]] = {}
        stopper: tuple[str, ast.RuleDecl] | None = None
        for file, r in rules:
            title = r.title.value
            if title == "default":
                self.error(
                    file,
                    r.title.span,
                    "reserved-name",
                    'a rule cannot be titled "default"',
                    "`default` names the default level in decisions",
                )
            elif title in titles:
                f0, line0 = titles[title]
                self.error(
                    file,
                    r.title.span,
                    "duplicate-name",
                    f'rule "{title}" is declared twice',
                    f"the first is at {f0}:{line0}",
                )
            else:
                titles[title] = (file, r.span.line)
            if r.when is not None:
                self.check_condition(file, r.when)
            if r.set_level is not None and r.set_level.value != "none":
                self._level_ref(file, r.set_level)
            if stopper is not None:
                sf, sr = stopper
                self.error(
                    file,
                    r.span,
                    "unreachable-rule",
                    f'rule "{title}" can never run',
                    f'rule "{sr.title.value}" ({sf}:{sr.span.line}) has no `when` and stops',
                )
            elif r.when is None and r.stop:
                stopper = (file, r)
            self.model.rules.append((file, r))
        for i, (file, r) in enumerate(rules):
            if r.stop or r.set_level is None:
                continue
            for _f2, later in rules[i + 1 :]:
                if later.when is None and later.set_level is not None:
                    self.warn(
                        file,
                        r.span,
                        "overwritten-level",
                        f'the level set by rule "{r.title.value}" is always replaced by '
                        f'rule "{later.title.value}"',
                        "add `stop` to this rule or a `when` to the later one",
                    )
                    break
                if later.stop:
                    break

    def _unused(
        self, levels: dict[str, tuple[str, ast.Span]], calendars: dict[str, tuple[str, ast.Span]]
    ) -> None:
        used = {r.set_level.value for _, r in self.model.rules if r.set_level is not None}
        used.update(
            d.level.value
            for f in self.files
            for d in f.module.decls
            if isinstance(d, ast.DefaultDecl)
        )
        for name, (file, span) in levels.items():
            if name not in used:
                self.warn(
                    file,
                    span,
                    "unused-level",
                    f"level `{name}` is not the default and no rule sets it",
                )
        for name, (file, span) in calendars.items():
            if name not in self.used_calendars:
                self.warn(file, span, "unused-calendar", f"calendar `{name}` is not used")

    # ---- conditions -------------------------------------------------------------

    def check_condition(self, file: str, e: ast.Expr) -> None:
        if isinstance(e, ast.And | ast.Or):
            for item in e.items:
                self.check_condition(file, item)
        elif isinstance(e, ast.Not):
            self.check_condition(file, e.operand)
        elif isinstance(e, ast.Group):
            self.check_condition(file, e.inner)
        else:
            self._leaf(file, e)

    def field_type(self, file: str, ref: ast.FieldRef) -> str | None:
        base = self.model.fields.get(ref.name)
        if base is None:
            self.error(
                file,
                ref.span,
                "unknown-field",
                f"unknown field `{ref.name}`",
                did_you_mean(ref.name, self.model.fields),
            )
            return None
        if ref.part is None:
            return base
        if ref.part == "weekday" and base in ("date", "datetime"):
            return "weekday"
        if ref.part == "hour" and base == "datetime":
            return "number"
        if ref.part in ("weekday", "hour"):
            self.error(
                file,
                ref.span,
                "type-mismatch",
                f"`{ref.text}`: `.{ref.part}` needs "
                f"{'a date or date-time' if ref.part == 'weekday' else 'a date-time'} "
                f"field, `{ref.name}` is {_TYPE_WORDS[base]}",
            )
            return None
        self.error(
            file,
            ref.span,
            "unknown-field",
            f"unknown field part `{ref.text}`",
            did_you_mean(ref.part, ["weekday", "hour"])
            or "fields have the parts `.weekday` and `.hour`",
        )
        return None

    def _leaf(self, file: str, e: ast.Leaf) -> None:
        lt = self.field_type(file, e.left)
        if isinstance(e, ast.IsSet):
            return
        if isinstance(e, ast.During):
            self.used_calendars.add(e.calendar.value)
            if e.calendar.value != "always" and not self._calendar_declared(e.calendar.value):
                self._unknown_calendar(file, e.calendar)
            if lt is not None and lt != "datetime":
                self.error(
                    file,
                    e.span,
                    "type-mismatch",
                    f"`during` needs a date-time field, `{e.left.text}` is {_TYPE_WORDS[lt]}",
                )
            return
        if isinstance(e, ast.Bare):
            if lt is not None and lt != "bool":
                self.error(
                    file,
                    e.span,
                    "type-mismatch",
                    f"`{e.left.text}` is {_TYPE_WORDS[lt]}, not a bool",
                    f"to test that it has a value, write `{e.left.text} is set`",
                )
            return
        if isinstance(e, ast.Matches):
            if lt is not None and lt != "text":
                self.error(
                    file,
                    e.span,
                    "type-mismatch",
                    f"`matches` needs a text field, `{e.left.text}` is {_TYPE_WORDS[lt]}",
                )
            try:
                compile_regex(e.regex.pattern, e.regex.ignore_case)
            except RegexError as err:
                self.error(
                    file,
                    e.regex.span,
                    "invalid-regex",
                    f"invalid regex {e.regex.raw}: {err}",
                    "patterns use RE2 syntax (no look-around, no backreferences)",
                )
            return
        self._compare(file, e, lt)

    def _compare(self, file: str, e: ast.Compare, lt: str | None) -> None:
        op, right = e.op, e.right
        if lt is None:
            if isinstance(right, ast.FieldRef):
                self.field_type(file, right)
            return
        rt: str | None = None
        if isinstance(right, ast.FieldRef):
            rt = self.field_type(file, right)
            if rt is None:
                return
        left = e.left.text

        def mismatch(msg: str, hint: str | None = None) -> None:
            self.error(file, e.span, "type-mismatch", msg, hint)

        if op in ("==", "!=", "<", "<=", ">", ">="):
            allowed = _EQUALITY if op in ("==", "!=") else _ORDERED
            if lt not in allowed:
                hint = None
                if lt == "list" and isinstance(right, ast.Str):
                    hint = f"{left} contains {right.raw}"
                    hint = f"to test membership, write `{hint}`"
                elif lt == "text" and op not in ("==", "!="):
                    hint = "text has no order; use `==`, `in`, `starts with` or `matches`"
                mismatch(f"`{op}` cannot compare {_TYPE_WORDS[lt]} (`{left}`)", hint)
                return
            assert not isinstance(right, ast.ListLit)
            self._operand(file, e, lt, right, rt)
        elif op in ("in", "not in"):
            if lt not in _MEMBERSHIP:
                hint = f"write `{left} contains any […]`" if lt == "list" else None
                mismatch(f"`{op}` cannot test {_TYPE_WORDS[lt]} (`{left}`)", hint)
                return
            assert isinstance(right, ast.ListLit)
            for item in right.items:
                self._operand(file, e, lt, item, None)
        elif op in ("contains any", "contains all"):
            if lt != "list":
                mismatch(
                    f"`{op}` needs a list field, `{left}` is {_TYPE_WORDS[lt]}",
                    f"write `{left} in […]`" if lt in _MEMBERSHIP else None,
                )
                return
            assert isinstance(right, ast.ListLit)
            for item in right.items:
                self._operand(file, e, "text", item, None)
        elif op == "contains":
            if lt not in ("list", "text"):
                mismatch(f"`contains` needs a list or text field, `{left}` is {_TYPE_WORDS[lt]}")
                return
            assert not isinstance(right, ast.ListLit)
            self._operand(file, e, "text", right, rt)
        else:  # starts with / ends with
            if lt != "text":
                mismatch(f"`{op}` needs a text field, `{left}` is {_TYPE_WORDS[lt]}")
                return
            assert not isinstance(right, ast.ListLit)
            self._operand(file, e, "text", right, rt)

    def _operand(
        self, file: str, e: ast.Compare, lt: str, right: ast.Operand, rt: str | None
    ) -> None:
        """One right-hand value against the left side's type `lt`."""
        left = e.left
        if isinstance(right, ast.FieldRef):
            if rt is not None and rt != lt and not (lt == "text" and rt == "text"):
                self.error(
                    file,
                    e.span,
                    "type-mismatch",
                    f"`{left.text}` is {_TYPE_WORDS[lt]} but `{right.text}` is {_TYPE_WORDS[rt]}",
                )
            return
        kind = _LIT_TYPE[type(right)]
        want = {"text": "string", "priority": "string", "weekday": "string"}.get(lt, lt)
        if kind != want:
            hint = None
            if lt == "date" and kind == "datetime":
                hint = "`" + left.text + "` is a date: compare it with a date like 2026-03-01"
            elif lt == "datetime" and kind == "date":
                hint = (
                    f"`{left.text}` is a date-time: compare it with a date-time like "
                    f"2026-03-01T00:00:00Z"
                )
            elif want == "string":
                hint = "write the value as a string in double quotes"
            self.error(
                file,
                right.span,
                "type-mismatch",
                f"`{left.text}` is {_TYPE_WORDS[lt]}, not {_TYPE_WORDS[kind]}",
                hint,
            )
            return
        if isinstance(right, ast.DateLit | ast.DateTimeLit) and right.value is None:
            self.error(
                file,
                right.span,
                "invalid-date",
                f"`{right.raw}` is not a valid "
                f"{'date' if isinstance(right, ast.DateLit) else 'date-time'}",
            )
            return
        if not isinstance(right, ast.Str):
            return
        if lt == "priority":
            self._known_value(file, right.span, right.value, "priority")
        elif lt == "weekday":
            self._known_value(file, right.span, right.value, "weekday")
        elif left.part is None and e.op in ("==", "!=", "in", "not in"):
            if left.name == "status":
                self._known_value(file, right.span, right.value, "status")
            elif left.name == "source":
                self._known_value(file, right.span, right.value, "source")


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return tuple(out)


def _target_values(stmts: list[ast.TargetStmt]) -> list[int]:
    out: list[int] = []
    for t in stmts:
        if isinstance(t.value, ast.Duration):
            out.append(t.value.seconds)
        else:
            out.extend(r.duration.seconds for r in t.value.rows)
            if t.value.else_duration is not None:
                out.append(t.value.else_duration.seconds)
    return out


def check(files: Sequence[ParsedFile]) -> tuple[list[Diagnostic], Model]:
    """Every semantic problem of the ruleset (sorted) and the resolved model."""
    return Checker(files).run()
