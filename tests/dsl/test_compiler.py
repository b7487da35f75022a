"""Compiled rules: semantics of every operator, unset fields, case, types, traces, levels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from slarules.dsl import SourceFile, build, build_source, version_of
from slarules.engine.policy import Policy

SCHEMA = """
timezone "Europe/Berlin"
schema {
  priorities low < normal < high < urgent
  sources email, chat, phone
  field seats: number
  field renewal: date
  field beta: bool
  field labels: list
  field tier: text
}
calendar office {
  timezone "Europe/Berlin"
  hours mon-fri 09:00-17:00
}
level yes { calendar office }
"""


def policy(extra: str) -> Policy:
    result = build_source(SCHEMA + extra)
    assert result.policy is not None, [d.render() for d in result.errors]
    return result.policy


def holds(cond: str, fields: dict[str, Any]) -> bool:
    p = policy(f'rule "r" {{ when {cond} set level yes }}')
    return p.decide(fields).level == "yes"


@pytest.mark.parametrize(
    ("cond", "fields", "expected"),
    [
        ('tier == "Gold"', {"tier": "GOLD"}, True),
        ('tier == "Straße"', {"tier": "STRASSE"}, True),  # full Unicode case folding
        ('tier != "gold"', {"tier": "Gold"}, False),
        ('tier != "gold"', {}, True),
        ('tier != "gold"', {"tier": ""}, True),
        ('tier == ""', {"tier": ""}, False),
        ('tier in ["a", "B"]', {"tier": "b"}, True),
        ('tier in ["a", "B"]', {"tier": None}, False),
        ('tier not in ["a", "B"]', {"tier": None}, True),
        ('tier not in ["a", "B"]', {"tier": "A"}, False),
        ('tier contains "OL"', {"tier": "gold"}, True),
        ('tier contains "x"', {}, False),
        ('tier starts with "GO"', {"tier": "gold"}, True),
        ('tier ends with "LD"', {"tier": "gold"}, True),
        ('tier ends with "x"', {"tier": ""}, False),
        ('tier contains ""', {"tier": ""}, False),
        ('tier contains ""', {"tier": "a"}, True),
        ('tier starts with ""', {}, False),
        ("tier is set", {"tier": ""}, False),
        ("tier is set", {"tier": "x"}, True),
        ("tier is not set", {"tier": ""}, True),
        ("labels is set", {"labels": []}, False),
        ("labels is not set", {"labels": ()}, True),
        ('labels contains "Hot"', {"labels": ("HOT", "cold")}, True),
        ('labels contains any ["x", "COLD"]', {"labels": ["hot", "cold"]}, True),
        ('labels contains any ["x"]', {}, False),
        ('labels contains all ["hot", "cold"]', {"labels": ["Hot", "Cold", "x"]}, True),
        ('labels contains all ["hot", "cold"]', {"labels": ["Hot"]}, False),
        ("subject matches /Foo/", {"subject": "a foo"}, False),
        ("subject matches /Foo/i", {"subject": "a foo"}, True),
        ("subject matches /a\\/b/", {"subject": "x a/b"}, True),
        ("subject matches /^$/", {"subject": ""}, False),
        ("seats > 10", {"seats": 10.5}, True),
        ("seats > 10", {"seats": 10}, False),
        ("seats == 10", {"seats": 10.0}, True),
        ("seats in [1, 2.5]", {"seats": 2.5}, True),
        ("seats != 3", {}, True),
        ("seats < 3", {"seats": True}, False),  # a bool is not a number
        ('priority >= "HIGH"', {"priority": "urgent"}, True),
        ('priority >= "high"', {"priority": "normal"}, False),
        ('priority < "high"', {"priority": "bogus"}, False),
        ('priority in ["low", "urgent"]', {"priority": "Urgent"}, True),
        ("beta", {"beta": True}, True),
        ("beta", {"beta": "yes"}, False),
        ("beta == false", {"beta": False}, True),
        ("beta != true", {}, True),
        ("not beta", {}, True),
        ("renewal < 2026-03-01", {"renewal": date(2026, 2, 1)}, True),
        ("renewal < 2026-03-01", {"renewal": datetime(2026, 2, 1, tzinfo=UTC)}, False),
        (
            "created_at >= 2026-03-01T09:00:00+01:00",
            {"created_at": datetime(2026, 3, 1, 8, 0, tzinfo=UTC)},
            True,
        ),
        (
            "created_at >= 2026-03-01T09:00:00+01:00",
            {"created_at": datetime(2026, 3, 1, 8, 0)},
            False,
        ),  # naive: never matches
        (
            'created_at.weekday == "sun"',
            {"created_at": datetime(2026, 3, 7, 23, 30, tzinfo=UTC)},
            True,
        ),  # Berlin
        ('created_at.weekday > "fri"', {"created_at": datetime(2026, 3, 7, 12, tzinfo=UTC)}, True),
        ('renewal.weekday in ["sat", "sun"]', {"renewal": date(2026, 3, 7)}, True),
        ("created_at.hour == 0", {"created_at": datetime(2026, 3, 7, 23, 30, tzinfo=UTC)}, True),
        ("created_at during office", {"created_at": datetime(2026, 3, 9, 8, 30, tzinfo=UTC)}, True),
        (
            "created_at during office",
            {"created_at": datetime(2026, 3, 9, 16, 30, tzinfo=UTC)},
            False,
        ),
        ("created_at during always", {"created_at": datetime(2026, 3, 9, tzinfo=UTC)}, True),
        ("created_at during always", {}, False),
        ("tier == requester", {"tier": "A", "requester": "a"}, True),
        ("tier == requester", {}, False),
        ("tier != requester", {}, True),
        ("seats >= seats", {"seats": 1}, True),
        ('not (tier == "a" or beta) and seats is not set', {"tier": "b"}, True),
        ('source == "CHAT"', {"source": "chat"}, True),
        ('status in ["open", "new"]', {"status": "NEW"}, True),
    ],
)
def test_operator_semantics(cond: str, fields: dict[str, Any], expected: bool) -> None:
    assert holds(cond, fields) is expected


@pytest.mark.parametrize(
    "value", [42, 3.5, ["a"], {"x": 1}, object(), b"bytes", datetime(2026, 1, 1), True, "text"]
)
def test_wrong_types_never_raise(value: object) -> None:
    conds = [
        'tier == "a"',
        'tier contains "a"',
        "tier matches /a/",
        "seats > 1",
        'priority > "low"',
        'labels contains "a"',
        "beta",
        "renewal < 2026-01-01",
        "created_at.hour < 3",
        'created_at.weekday == "mon"',
        "created_at during office",
        "tier is set",
    ]
    p = policy("\n".join(f'rule "r{i}" {{ when {c} set level yes }}' for i, c in enumerate(conds)))
    fields = {
        name: value
        for name in ("tier", "seats", "priority", "labels", "beta", "renewal", "created_at")
    }
    p.decide(fields)
    p.explain(fields)


def test_rule_order_stop_and_deciding_rule() -> None:
    p = policy("""
level other { }
default level other
rule "a" { when tier == "x" set level yes }
rule "b" { when tier == "x" stop }
rule "c" { when tier == "x" set level other }
""")
    d = p.decide({"tier": "X"})
    assert (d.level, d.decided_by, d.matched) == ("yes", "a", ("a", "b"))
    d = p.decide({})
    assert (d.level, d.decided_by, d.matched) == ("other", "default", ())


def test_set_level_none_and_no_default() -> None:
    p = policy('rule "spam" { when tier == "spam" set level none }')
    assert p.decide({"tier": "spam"}).decided_by == "spam"
    assert p.decide({"tier": "spam"}).level is None
    d = p.decide({})
    assert (d.level, d.decided_by) == (None, None)


def test_explain_trace() -> None:
    p = policy("""
rule "one" { when tier == "gold" and seats > 5 set level yes stop }
rule "two" { set level yes }
""")
    d = p.explain({"tier": "Gold", "seats": 3})
    assert [t.rule.title for t in d.trace] == ["one", "two"]
    one = d.trace[0]
    assert not one.matched
    assert [(c.source, c.value, c.result) for c in one.conditions] == [
        ('tier == "gold"', "Gold", True),
        ("seats > 5", 3, False),
    ]
    assert d.trace[1].matched and d.trace[1].conditions == ()
    d = p.explain({"tier": "gold", "seats": 9})
    assert d.trace[0].stopped_here
    assert d.trace[1].matched is False and d.trace[1].conditions == ()
    assert d.decided_by == "one"


def test_user_text_is_data_not_code() -> None:
    evil = '\\"); import os; os.system(\\"false\\") #'
    p = policy(f'rule "{evil}" {{ when tier == "{evil}" set level yes }}')
    value = evil.replace('\\"', '"')
    assert p.decide({"tier": value}).level == "yes"
    assert p.rules[0].title == value


def test_levels_targets_pauses_warnings() -> None:
    p = policy("""
level std {
  title "Standard"
  first_response by priority { urgent 1h, HIGH 4h, else 1d }
  first_response by source { chat 2m }
  resolution 40h
  next_response by tier { gold 30m }
  pause when status == "waiting for vendor"
  pause resolution, agent_work when labels contains "on-site"
  warn at 80%, 50%
  warn before 15m
}
statuses {
  open = "new", "open"
  hold = "Waiting for vendor"
  done = "closed"
}
rule "r" { set level std }
""")
    lvl = p.levels["std"]
    assert lvl.title == "Standard" and lvl.calendar_name == "always"
    assert lvl.target_seconds("first_response", {"priority": "High"}) == 4 * 3600
    assert lvl.target_seconds("first_response", {"priority": "High", "source": "Chat"}) == 120
    assert lvl.target_seconds("first_response", {}) == 86400
    assert lvl.target_seconds("resolution", {}) == 40 * 3600
    assert lvl.target_seconds("next_response", {"tier": "GOLD"}) == 1800
    assert lvl.target_seconds("next_response", {"tier": "x"}) is None
    assert lvl.target_seconds("agent_work", {}) is None
    every, some = lvl.pauses
    assert every.metrics is None and every.holds({"status": "WAITING FOR VENDOR"})
    assert not every.holds({})
    assert some.covers("agent_work") and some.covers("resolution")
    assert not some.covers("first_response")
    assert some.holds({"labels": ["On-Site"]})
    assert every.source == 'status == "waiting for vendor"'
    assert lvl.warn_percents == (50.0, 80.0) and lvl.warn_befores == (900,)
    assert p.category("CLOSED") == "done" and p.category("pending") == "open"
    assert p.statuses["waiting for vendor"] == "hold"


def test_policy_metadata() -> None:
    p = policy('rule "r" { set level yes }')
    assert p.fields["seats"] == "number" and p.fields["tags"] == "list"
    assert p.fields["created_at"] == "datetime" and p.fields["priority"] == "priority"
    assert p.priorities == ("low", "normal", "high", "urgent")
    assert p.sources == ("email", "chat", "phone")
    assert str(p.timezone) == "Europe/Berlin"
    assert set(p.calendars) == {"always", "office"}
    assert p.levels["yes"].calendar is p.calendars["office"]


def test_version_uses_base_names_and_bytes() -> None:
    a = [SourceFile("x/10.sla", b"level a { }\n"), SourceFile("x/20.sla", b"")]
    b = [SourceFile("/elsewhere/10.sla", b"level a { }\n"), SourceFile("20.sla", b"")]
    assert version_of(a) == version_of(b)
    assert len(version_of(a)) == 12
    assert version_of(a) != version_of([SourceFile("10.sla", b"level a { } \n"), a[1]])
    assert version_of(a) != version_of([SourceFile("11.sla", a[0].data), a[1]])
    result = build(a)
    assert result.policy is not None and result.policy.version == version_of(a)
    assert [d.code for d in result.diagnostics] == ["unused-level", "empty-file"]


def test_many_rules_last_matches() -> None:
    rules = "\n".join(
        f'rule "r{i}" {{ when tier == "t{i}" set level yes stop }}' for i in range(300)
    )
    p = policy(rules)
    d = p.decide({"tier": "T299"})
    assert d.decided_by == "r299"
    assert p.decide({"tier": "t300"}).level is None


def test_datetime_subclass_and_offsets() -> None:
    t = datetime(2026, 3, 2, 10, tzinfo=timezone(timedelta(hours=-3)))
    assert holds("created_at.hour == 14", {"created_at": t})  # 13:00 UTC = 14:00 Berlin
