"""`serve --demo`: the bundled fixtures recorded, moved to the server's time, not twice."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from slarules.app import create_app
from slarules.clock import FrozenClock
from slarules.loading.demo import demo_fixtures, record_demo
from slarules.settings import Settings, parse_database_url

ROOT = Path(__file__).resolve().parents[2]
QUERY = """{ tickets(first: 100) { totalCount edges { node {
  id fields cycles { state warnings { at } } } } } }"""
DONE = {"solved", "closed"}


def _board(settings: Settings, clock: FrozenClock) -> tuple[int, Counter[str]]:
    """How many tickets, and the board's tones of their cycles (board.js `tone`)."""
    with TestClient(create_app(settings, clock)) as client:
        got = client.post("/graphql", json={"query": QUERY}).json()
    assert "errors" not in got, got
    tones: Counter[str] = Counter()
    for edge in got["data"]["tickets"]["edges"]:
        node = edge["node"]
        if node["fields"].get("status") in DONE:
            tones["closed"] += 1
        for c in node["cycles"]:
            if c["state"] == "ACTIVE":
                tones["at risk" if c["warnings"] else "on track"] += 1
            else:
                tones[c["state"].lower()] += 1
    return got["data"]["tickets"]["totalCount"], tones


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 1, 21, 50, tzinfo=UTC),  # a Tuesday evening in Sao Paulo
        datetime(2027, 6, 12, 15, 0, tzinfo=UTC),  # a Saturday, months after the fixtures
    ],
    ids=["tuesday-evening", "saturday"],
)
def test_demo_board_has_every_state_and_is_recorded_once(tmp_path: Path, now: datetime) -> None:
    settings = replace(Settings(), database=parse_database_url(f"sqlite:///{tmp_path / 'd.db'}"))
    clock = FrozenClock(now)
    fixtures = len(list(demo_fixtures().glob("*.toml")))
    first = record_demo(settings, clock)
    assert first.errors == []
    assert first.tickets_new == fixtures and first.events_applied > 0
    count, tones = _board(settings, clock)
    assert count == fixtures
    for tone in ("on track", "at risk", "breached", "met", "paused", "closed"):
        assert tones[tone] > 0, (tone, tones)

    clock.set(now.replace(hour=now.hour + 1))  # started again an hour later
    again = record_demo(settings, clock)
    assert again.errors == []
    assert (again.tickets_new, again.tickets_present) == (0, fixtures)
    assert again.events_applied == 0
    assert _board(settings, clock)[0] == fixtures


def test_serve_demo_prints_it_and_uses_its_own_database(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "server.py"), "--demo", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("slarules: demo: 30 example tickets recorded (0 there already)"), (
            line + (proc.stderr.read() if proc.stderr else "")
        )
        assert proc.stdout.readline().startswith("slarules: SLA board http://")
        assert (tmp_path / "slarules-demo.db").is_file()
        assert not (tmp_path / "slarules.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
