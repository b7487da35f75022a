"""Mutated fixtures through the loader and the runner: a FAIL line with a documented
code, never a traceback."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slarules.engine.policy import Policy
from slarules.fixtures import ERROR_CODES
from slarules.fixtures.runner import run_fixture
from slarules.rulesets import load_policy
from tests.fuzz.profile import fuzz_settings

pytestmark = pytest.mark.fuzz
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "helpdesk" / "fixtures").glob("*.toml"))
DOCS = [tomllib.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]
POLICY: Policy = load_policy(ROOT / "examples" / "helpdesk")
CODES = {*ERROR_CODES, "cannot-run"}
ZONES = [UTC, timezone(timedelta(hours=-23, minutes=-59))]

weird_instants = st.one_of(
    st.datetimes(timezones=st.sampled_from(ZONES)),
    st.builds(
        lambda y, mo, d, h, mi, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:00{off}",
        st.integers(0, 9999),
        st.integers(0, 14),
        st.integers(0, 40),
        st.integers(0, 30),
        st.integers(0, 70),
        st.sampled_from(["Z", "+25:00", "-24:00", "+05:30", ""]),
    ),
)
values: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    weird_instants,
    st.just([]),
    st.builds(lambda n: json.loads("[" * n + "]" * n), st.integers(1, 900)),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.sampled_from(["1h30m", "-15m", "99999999999999999999d", "none", "met", "breached"]),
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for k in path[:-1]:
        doc = doc[k]
    doc[path[-1]] = value


def _as_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    return value


def _check(path: Path) -> None:
    outcome = run_fixture(POLICY, path)  # must not raise
    if outcome.passed:
        return
    assert outcome.lines, "a failure explains itself"
    first = outcome.lines[0]
    if not outcome.measured:  # a load error: `code: message (at `key`)`
        head = first.split(":")[0]
        assert head in CODES, first
        assert head != "cannot-run", first  # the last resort stays unused


@fuzz_settings(quick=60)
@given(data=st.data())
def test_mutated_fixtures(data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    doc = json.loads(json.dumps(_as_json(data.draw(st.sampled_from(DOCS), label="doc"))))
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        path = data.draw(st.sampled_from(_paths(doc)), label="path")
        _set(doc, path, _as_json(data.draw(values, label="value")))
    text = json.dumps(doc, allow_nan=True)
    if data.draw(st.booleans(), label="big number"):
        text = text.replace('"id": ', '"seats": ' + "9" * 4301 + ', "id": ', 1)
    path = tmp_path_factory.mktemp("fx") / "f.json"
    path.write_text(text, encoding="utf-8")
    _check(path)


PIECES = ["[" * 1000, "9" * 4301, "13", "24", "+25:00", "0001", "9999", "= []", "\n[x]\n", '"']


@fuzz_settings(quick=40)
@given(data=st.data())
def test_mutated_toml_text(data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    text = data.draw(st.sampled_from(EXAMPLES), label="file").read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        at = data.draw(st.integers(0, len(text)), label="at")
        piece = data.draw(st.sampled_from(PIECES), label="piece")
        text = text[:at] + piece + text[at + data.draw(st.integers(0, 4), label="cut") :]
    path = tmp_path_factory.mktemp("fx") / "f.toml"
    path.write_text(text, encoding="utf-8")
    _check(path)
