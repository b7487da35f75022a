"""`engine.impact`: what a change of ruleset may change, as a table of edits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from slarules.dsl import build_source
from slarules.engine.impact import EVERYTHING, NOTHING, Impact, impact
from slarules.engine.policy import Policy

BASE = """\
timezone "UTC"
schema {
  priorities low < high
}
statuses {
  open = "new", "open"
  waiting = "pending"
  done = "solved"
}
calendar office {
  timezone "Europe/Berlin"
  hours mon-fri 09:00-17:00
  closed 2026-12-24
}
level fast {
  title "Fast"
  calendar office
  first_response 1h
  resolution by priority { high 4h, low 6h, else 8h }
  pause resolution when tags contains "vendor"
  warn at 50%
}
level slow {
  resolution 40h
  warn before 1h
}
default level slow
rule "High" {
  when priority >= "high"
  set level fast
}
rule "Spam" {
  when tags contains "spam"
  set level none
  stop
}
"""

LEVELS = "levels"
REPLAY = "replay"
RULES = "rules"  # every ticket replayed, its cycles kept when its level stands

# (edit, old text, new text, expected: NOTHING, REPLAY, or the changed levels with the
# metrics whose cycles may differ, None: every metric)
CASES: list[tuple[str, str, str, object]] = [
    ("a comment", "default level slow", "# note\ndefault level slow", NOTHING),
    ("a level's title", 'title "Fast"', 'title "Quick"', NOTHING),
    ("blank lines", "level slow {", "\n\nlevel slow {", NOTHING),
    ("table rows reordered", "high 4h, low 6h", "low 6h, high 4h", NOTHING),
    ("a target", "resolution 40h", "resolution 30h", {"slow": {"resolution"}}),
    ("a table's row", "high 4h", "high 3h", {"fast": {"resolution"}}),
    (
        "a new target",
        "  warn before 1h",
        "  first_response 2h\n  warn before 1h",
        {"slow": {"first_response"}},
    ),
    ("a warning percent", "warn at 50%", "warn at 60%", {"fast": None}),
    ("a warning before", "warn before 1h", "warn before 2h", {"slow": None}),
    (
        "a level's calendar",
        "  resolution 40h",
        "  calendar office\n  resolution 40h",
        {"slow": None},
    ),
    ("a calendar's holiday", "closed 2026-12-24", "closed 2026-12-25", {"fast": None}),
    ("a calendar's hours", "mon-fri 09:00-17:00", "mon-fri 08:00-17:00", {"fast": None}),
    ("a calendar's zone", '"Europe/Berlin"', '"Europe/Paris"', {"fast": None}),
    ("a pause's metrics", "pause resolution when", "pause when", {"fast": None}),
    ("a pause's condition", 'contains "vendor"', 'contains "partner"', REPLAY),
    ("a rule's condition", 'priority >= "high"', 'priority >= "low"', RULES),
    ("a rule's level", "set level fast", "set level slow", RULES),
    ("a rule's title", 'rule "High"', 'rule "Important"', RULES),
    ("a rule's stop", "  set level none\n  stop\n", "  set level none\n", RULES),
    ("the default level", "default level slow", "default level fast", RULES),
    ("a status", 'waiting = "pending"', 'waiting = "pending", "later"', REPLAY),
    ("the priorities", "low < high", "low < mid < high", REPLAY),
    ("the timezone", 'timezone "UTC"', 'timezone "Europe/Lisbon"', REPLAY),
    (
        "the levels' order",
        "level slow {",
        "level slow2 {\n  resolution 1h\n}\nlevel slow {",
        REPLAY,
    ),
]


def _build(text: str) -> Policy:
    result = build_source(text, "r.sla")
    assert result.policy is not None, [d.render() for d in result.diagnostics]
    return result.policy


OLD = _build(BASE)


@pytest.mark.parametrize(("edit", "old", "new", "expected"), CASES, ids=[c[0] for c in CASES])
def test_impact_of_an_edit(edit: str, old: str, new: str, expected: object) -> None:
    assert old in BASE
    got = impact(OLD, _build(BASE.replace(old, new, 1)))
    if expected is NOTHING:
        assert got.nothing and not got.affects("fast") and not got.affects("slow")
    elif expected == REPLAY:
        assert got.replay and got.affects(None) and got.affects("slow")
        assert not got.decisions
    elif expected == RULES:
        assert got.replay and got.decisions and not got.levels
    else:
        assert isinstance(expected, dict)
        assert not got.replay and got.levels == set(expected)
        assert all(got.affects(n) == (n in expected) for n in ("fast", "slow"))
        assert {n: got.metrics_of(n) for n in expected} == expected
        assert not got.affects(None)  # a ticket without a level has no cycles


def test_the_same_text_under_another_version_changes_nothing() -> None:
    assert impact(OLD, replace(OLD, version="other")) == NOTHING
    assert impact(OLD, _build(BASE)).nothing  # built again: the same prints


def test_a_policy_without_prints_impacts_everything() -> None:
    bare = replace(OLD, prints=None)
    assert impact(OLD, bare) == EVERYTHING == impact(bare, OLD)
    assert EVERYTHING.affects(None) and EVERYTHING.affects("fast")


def test_rules_and_a_level_changed_together() -> None:
    text = BASE.replace("set level fast", "set level slow").replace("warn at 50%", "warn at 9%")
    got = impact(OLD, _build(text))
    assert got.replay and got.decisions and got.levels == {"fast"}


def test_a_removed_or_added_level_replays_everything() -> None:
    # every level's pause conditions are part of the replay (its runs record them)
    got = impact(OLD, _build(BASE + "level extra {\n  resolution 1h\n}\n"))
    assert got == Impact(True, reasons=got.reasons) and got.replay


@pytest.mark.parametrize(
    ("old", "new", "calendar_only"),
    [
        ("closed 2026-12-24", "closed 2026-12-25", True),
        ("mon-fri 09:00-17:00", "mon-fri 08:00-17:00", True),
        ('"Europe/Berlin"', '"Europe/Paris"', True),  # the calendar's alone (its diff: any day)
        ("warn at 50%", "warn at 60%", False),
        ("pause resolution when", "pause when", False),
        ("high 4h", "high 3h", False),
    ],
)
def test_a_change_of_calendar_alone_is_told_apart(old: str, new: str, calendar_only: bool) -> None:
    got = impact(OLD, _build(BASE.replace(old, new, 1)))
    assert got.calendars == ({"fast"} if calendar_only else set())


def test_a_calendar_and_a_warning_changed_together_is_not_the_calendar_alone() -> None:
    text = BASE.replace("closed 2026-12-24", "closed 2026-12-25").replace("50%", "60%")
    got = impact(OLD, _build(text))
    assert got.levels == {"fast"} and not got.calendars
