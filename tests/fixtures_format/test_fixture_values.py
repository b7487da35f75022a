"""Durations, instants and ticket field values as fixture files and the API give them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slarules.engine.explain import format_duration
from slarules.engine.policy import Policy
from slarules.errors import InputError
from slarules.fixtures import parse_duration, parse_instant, validate_fields


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0s", 0),
        ("45s", 45),
        ("10m30s", 630),
        ("-15m", -900),
        ("1h30m", 5400),
        ("90m", 5400),
        ("1d2h", 93600),
        ("40h", 144000),
        ("2d4h5m6s", 187506),
        ("0m", 0),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text, "k") == seconds


@pytest.mark.parametrize(
    "text",
    ["", "-", "1h 30m", "30m1h", "1.5h", "10", "10 minutes", "1w", "--1m", "+5m", 600, None, True],
)
def test_bad_duration(text: Any) -> None:
    with pytest.raises(InputError) as info:
        parse_duration(text, "expect.first_response.elapsed")
    assert info.value.code == "bad-value"
    assert info.value.key == "expect.first_response.elapsed"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (-900, "-15m"), (630, "10m30s"), (144000, "40h"), (3601, "1h1s")],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.integers(min_value=-(10**8), max_value=10**8))
def test_duration_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds), "k") == seconds


def test_instants() -> None:
    brt = timezone(timedelta(hours=-3))
    assert parse_instant("2026-03-02T09:00:00.999-03:00", "k") == datetime(
        2026, 3, 2, 9, tzinfo=brt
    )
    assert parse_instant("2026-03-02T12:00:00Z", "k") == datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert parse_instant(datetime(2026, 3, 2, 12, 0, 0, 5, tzinfo=UTC), "k").microsecond == 0
    for naive in ("2026-03-02T12:00:00", datetime(2026, 3, 2, 12)):
        with pytest.raises(InputError) as info:
            parse_instant(naive, "now")
        assert (info.value.code, info.value.key) == ("naive-datetime", "now")
    for bad in ("2026-03-02", date(2026, 3, 2), "yesterday", 1772452800, None):
        with pytest.raises(InputError) as info:
            parse_instant(bad, "now")
        assert info.value.code == "bad-value"


GOOD: list[tuple[str, Any, Any]] = [
    ("subject", "Printer", "Printer"),
    ("source", "CHAT", "CHAT"),  # sources and priorities match ignoring case
    ("priority", "Critical", "Critical"),
    ("seats", 3, 3),
    ("seats", 2.5, 2.5),
    ("beta", True, True),
    ("tags", ["a", "b"], ("a", "b")),
    ("tags", ("a",), ("a",)),
    ("renewal_date", "2026-06-01", date(2026, 6, 1)),
    ("renewal_date", date(2026, 6, 1), date(2026, 6, 1)),
    ("updated_at", "2026-03-02T09:00:00-03:00", datetime(2026, 3, 2, 12, tzinfo=UTC)),
    ("department", None, None),
    ("department", "", ""),
    ("tags", [], ()),
    ("seats", None, None),
]


@pytest.mark.parametrize(("name", "raw", "typed"), GOOD)
def test_validate_fields_types_values(helpdesk: Policy, name: str, raw: Any, typed: Any) -> None:
    out = validate_fields(helpdesk, {name: raw}, "ticket")
    assert out == {name: typed}
    assert type(out[name]) is type(typed)


BAD: list[tuple[str, Any, str]] = [
    ("colour", "red", "bad-value"),
    ("seats", True, "bad-value"),  # a bool is not a number
    ("seats", "3", "bad-value"),
    ("beta", 1, "bad-value"),
    ("beta", "true", "bad-value"),
    ("subject", 5, "bad-value"),
    ("tags", "a", "bad-value"),
    ("tags", ["a", 1], "bad-value"),
    ("priority", "urgent", "bad-value"),  # not in the example schema
    ("priority", 3, "bad-value"),
    ("source", "fax", "bad-value"),
    ("renewal_date", "2026-6-1", "bad-value"),
    ("renewal_date", datetime(2026, 6, 1, tzinfo=UTC), "bad-value"),
    ("renewal_date", "2026-02-30", "bad-value"),
    ("updated_at", "2026-03-02T09:00:00", "naive-datetime"),
    ("updated_at", "2026-03-02", "bad-value"),
]


@pytest.mark.parametrize(("name", "raw", "code"), BAD)
def test_validate_fields_rejects(helpdesk: Policy, name: str, raw: Any, code: str) -> None:
    with pytest.raises(InputError) as info:
        validate_fields(helpdesk, {"subject": "ok", name: raw}, "events[2].set")
    assert (info.value.code, info.value.key) == (code, f"events[2].set.{name}")


def test_unknown_field_suggests(helpdesk: Policy) -> None:
    with pytest.raises(InputError, match="did you mean `seats`"):
        validate_fields(helpdesk, {"seat": 1}, "ticket")


def test_any_source_without_schema_sources(helpdesk: Policy) -> None:
    from dataclasses import replace

    open_sources = replace(helpdesk, sources=None)
    assert validate_fields(open_sources, {"source": "fax"}, "t") == {"source": "fax"}
