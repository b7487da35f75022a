"""Loading fixture files strictly: every error code, each naming the file and the key."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from slarules.engine.policy import Policy
from slarules.engine.timers import measure
from slarules.errors import InputError
from slarules.fixtures import ERROR_CODES, FixtureError, find_fixtures, load_fixture
from tests.fixtures_format.conftest import CASES

CASE_FILES = sorted(CASES.glob("*.toml"))


def _header(path: Path) -> tuple[str, str | None]:
    """`# error: CODE KEY` on the first line of a case (`-` for no key)."""
    first = path.read_text().splitlines()[0]
    code, key = first.removeprefix("# error:").split()
    return code, None if key == "-" else key


def test_the_cases_cover_every_error_code() -> None:
    assert {_header(p)[0] for p in CASE_FILES} == set(ERROR_CODES)


# Time order is the replay's to check (one place): these load, then fail to measure.
TIME_ORDER = ("event-before-creation", "now-before-creation")


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_malformed_fixture(path: Path, helpdesk: Policy) -> None:
    code, key = _header(path)
    if code in TIME_ORDER:
        fx = load_fixture(path, helpdesk)
        with pytest.raises(InputError) as order:
            measure(helpdesk, fx.history, fx.now)
        assert (order.value.code, order.value.key) == (code, key)
        return
    with pytest.raises(FixtureError) as info:
        load_fixture(path, helpdesk)
    e = info.value
    assert (e.code, e.key) == (code, key)
    assert str(e).startswith(f"{path}: {code}: ")
    if key is not None:
        assert str(e).endswith(f"(at `{key}`)")
    assert "\n" not in str(e)


TICKET = """name = "full"
now = 2026-03-02T12:00:00.900-03:00

[ticket]
created_at = 2026-03-02T09:00:00.5-03:00
created_by = "agent"
source = "Chat"
priority = "HIGH"
tags = ["a", "b"]
seats = 12.5
renewal_date = 2026-06-01
beta = false
last_message = "hello"
department = ""

[[events]]
at = 2026-03-02T13:00:00Z
type = "message"
by = "customer"
text = "help"
channel = "chat"

[[events]]
at = 2026-03-02T10:30:00-03:00
type = "message"
by = "agent"
public = false

[[events]]
at = 2026-03-02T11:00:00-03:00
type = "update"
set = { seats = 3, tags = [], renewal_date = 2026-07-01 }
unset = ["department"]

[[events]]
at = 2026-03-02T11:00:00-03:00
type = "status"
status = "pending"

[expect]
level = "none"
rule = "default"
first_response = "none"
warnings = [{ metric = "resolution", before = "15m" }]

[[expect.resolution]]
state = "met"
elapsed = "-1h2m3s"
due_at = "none"
started_at = "2026-03-02T12:00:00Z"
"""


def test_a_full_fixture_loads_typed(tmp_path: Path, helpdesk: Policy) -> None:
    f = tmp_path / "full-ticket.toml"
    f.write_text(TICKET)
    fx = load_fixture(f, helpdesk)
    brt = timezone(timedelta(hours=-3))
    assert fx.name == "full"
    assert fx.now == datetime(2026, 3, 2, 12, 0, tzinfo=brt)  # truncated to whole seconds
    h = fx.history
    assert h.id == "full-ticket"  # the file stem when `id` is absent
    assert h.created_at == datetime(2026, 3, 2, 9, 0, tzinfo=brt) and h.created_by == "agent"
    assert h.fields == {
        "source": "Chat",
        "priority": "HIGH",
        "tags": ("a", "b"),
        "seats": 12.5,
        "renewal_date": date(2026, 6, 1),
        "beta": False,
        "last_message": "hello",
    }
    assert [e.type for e in h.events] == ["message", "message", "update", "status"]
    m, private, upd, st = h.events
    assert (m.at, m.by, m.public, m.text, m.channel) == (
        datetime(2026, 3, 2, 13, tzinfo=UTC),
        "customer",
        True,
        "help",
        "chat",
    )
    assert (private.by, private.public, private.text) == ("agent", False, None)
    assert upd.set == {"seats": 3, "tags": (), "renewal_date": date(2026, 7, 1)}
    assert upd.unset == ("department",)
    assert st.status == "pending"
    x = fx.expect
    assert (x.level, x.rule, x.error) == ("none", "default", None)
    assert x.metrics["first_response"].cycles == () and x.metrics["first_response"].exact
    res = x.metrics["resolution"]
    assert res.exact and res.cycles[0].keys == {
        "state": "met",
        "elapsed": -3723,
        "due_at": None,
        "started_at": datetime(2026, 3, 2, 12, tzinfo=UTC),
    }
    assert x.warnings is not None and x.warnings[0].before == 900 and x.warnings[0].at is None


def test_json_fixture_uses_strings_for_instants(tmp_path: Path, helpdesk: Policy) -> None:
    doc = {
        "name": "json",
        "now": "2026-03-02T12:00:00Z",
        "ticket": {
            "id": "J-1",
            "created_at": "2026-03-02T09:00:00-03:00",
            "renewal_date": "2026-06-01",
            "seats": 4,
        },
        "events": [{"at": "2026-03-02T13:00:00+01:00", "type": "status", "status": "open"}],
        "expect": {"first_response": {"state": "active", "due_at": "2026-03-02T20:00:00Z"}},
    }
    f = tmp_path / "t.json"
    f.write_text(json.dumps(doc))
    fx = load_fixture(f, helpdesk)
    assert fx.history.id == "J-1" and fx.history.fields["renewal_date"] == date(2026, 6, 1)
    assert fx.history.events[0].at == datetime(2026, 3, 2, 12, tzinfo=UTC)
    doc["now"] = "2026-03-02T12:00:00"
    f.write_text(json.dumps(doc))
    with pytest.raises(FixtureError) as info:
        load_fixture(f, helpdesk)
    assert (info.value.code, info.value.key) == ("naive-datetime", "now")
    doc["now"] = "2026-03-02T12:00:00Z"
    doc["ticket"]["renewal_date"] = "2026-02-30"  # type: ignore[index]
    f.write_text(json.dumps(doc))
    with pytest.raises(FixtureError) as info:
        load_fixture(f, helpdesk)
    assert (info.value.code, info.value.key) == ("bad-value", "ticket.renewal_date")
    f.write_text("[1, 2]")
    with pytest.raises(FixtureError, match="must be a table"):
        load_fixture(f, helpdesk)
    f.write_text("{")
    with pytest.raises(FixtureError, match="not valid JSON"):
        load_fixture(f, helpdesk)


def test_explain_mode_needs_no_name_or_expect(tmp_path: Path, helpdesk: Policy) -> None:
    f = tmp_path / "t.toml"
    f.write_text(
        "now = 2026-03-02T12:00:00Z\n[ticket]\ncreated_at = 2026-03-02T09:00:00Z\n"
        '[[events]]\nat = 2026-03-02T13:00:00Z\ntype = "status"\nstatus = "solved"\n'
        "[expect]\nbogus = 1\n"
    )
    fx = load_fixture(f, helpdesk, explain=True)
    assert fx.name == "t" and len(fx.history.events) == 1
    early = datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert load_fixture(f, helpdesk, explain=True, now=early).now == early
    with pytest.raises(FixtureError) as info:  # a fixture proper must not have it
        load_fixture(f, helpdesk)
    assert info.value.code == "missing-key" and info.value.key == "name"


def test_find_fixtures_recurses_sorts_and_dedupes(tmp_path: Path) -> None:
    for rel in ("b/z.toml", "b/a.json", "a.toml", "b/c/d.toml", "notes.txt", "b/x.sla"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    found = find_fixtures([tmp_path / "b", tmp_path, tmp_path / "a.toml"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.toml",
        "b/a.json",
        "b/c/d.toml",
        "b/z.toml",
    ]
    with pytest.raises(FileNotFoundError):
        find_fixtures([tmp_path / "missing"])
