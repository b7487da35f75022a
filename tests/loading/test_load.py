"""`slarules load`: files → batches → a sink (the app in-process, or a server over HTTP)."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from slarules.cli import main
from slarules.clock import FrozenClock
from slarules.loading.inprocess import database_sink
from slarules.loading.loader import Loader
from slarules.loading.sources import find_files, read_items
from slarules.settings import Settings, default_rules_path, parse_database_url

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = default_rules_path() / "fixtures"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _ticket(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"T-{i}",
        "createdAt": "2026-11-30T12:00:00Z",
        "fields": {"status": "new", "source": "email", "priority": "high", **fields},
    }


def _event(i: int, n: int, **body: Any) -> dict[str, Any]:
    body = body or {"message": {"by": "AGENT"}}
    return {"eventId": f"e{n}", "ticketId": f"T-{i}", "at": f"2026-11-30T13:{n:02d}:00Z", **body}


def _jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", "utf-8"
    )
    return path


def _load(db: Path, files: list[Path], **kw: Any) -> Any:
    settings = replace(Settings(), database=parse_database_url(f"sqlite:///{db}"), **kw)
    sink = database_sink(settings, FrozenClock(NOW))
    try:
        return Loader(sink, batch=4).run(i for f in files for i in read_items(f))
    finally:
        sink.close()


def _count(db: Path, table: str, where: str = "1=1") -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f'SELECT COUNT(*) FROM "{table}" WHERE {where}').fetchone()[0])


def test_jsonl_loads_once_and_reports_bad_lines_without_stopping(tmp_path: Path) -> None:
    rows: list[Any] = []
    for i in range(1, 6):
        rows.append(_ticket(i))
        rows += [_event(i, n) for n in range(1, 4)]
    rows.insert(6, _event(2, 9, status=None, message={"by": "NOBODY"}))  # line 7: bad enum
    rows.insert(9, "{not json")  # line 10
    rows.append({"ticketId": "T-1", "at": "2026-11-30T14:00:00Z", "eventId": None})  # no id
    rows.append(_ticket(6, priority="extreme"))  # a value the schema refuses
    rows.append(_event(6, 1))  # its event: the ticket was not recorded
    rows.append(_event(99, 1))  # an unknown ticket
    path = _jsonl(tmp_path / "export.jsonl", rows)
    db = tmp_path / "s.db"

    first = _load(db, [path])
    assert (first.tickets_new, first.events_applied, first.events_duplicate) == (5, 15, 0)
    got = {(e.where.rsplit(":", 1)[1], e.code) for e in first.errors}
    n = len(rows)
    assert got == {
        ("7", "BAD_USER_INPUT"),
        ("10", "bad-json"),
        (str(n - 3), "missing-key"),
        (str(n - 2), "BAD_USER_INPUT/bad-value"),
        (str(n - 1), "ticket-not-recorded"),
        (str(n), "NOT_FOUND"),
    }
    bad_field = next(e for e in first.errors if e.where.endswith(f":{n - 2}"))
    assert bad_field.key is not None and bad_field.key.startswith("T-6 ticket.priority")
    assert _count(db, "ticket") == 5 and _count(db, "event") == 15

    again = _load(db, [path])  # re-running loads nothing twice
    assert (again.tickets_new, again.tickets_present) == (0, 5)
    assert (again.events_applied, again.events_duplicate) == (0, 15)
    assert _count(db, "ticket") == 5 and _count(db, "event") == 15

    rows.append(_event(3, 7))  # the export grew: only the new event goes in
    _jsonl(path, rows)
    grown = _load(db, [path])
    assert (grown.events_applied, grown.events_duplicate) == (1, 15)


def test_fixture_files_load_with_their_events(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    files = find_files([FIXTURES])
    summary = _load(db, files)
    # HD-017 is created after NOW (Christmas 2026): refused, the rest goes in
    assert [e.code for e in summary.errors] == ["BAD_USER_INPUT/in-the-future"]
    assert summary.errors[0].where.endswith("17-closed-christmas-eve-and-new-year.toml:13")
    assert summary.tickets_new == len(files) - 1
    events = sum(
        1 for f in files if "17-closed" not in f.name for i in read_items(f) if i.kind == "event"
    )
    assert summary.events_applied == events == _count(db, "event")


def test_old_backlog_raises_no_webhook_alerts(tmp_path: Path) -> None:
    """SLA_ALERT_MAX_AGE: thresholds passed more than a day before the load raise no alert."""
    files = find_files([FIXTURES])
    hook = {"webhook_url": "http://127.0.0.1:9/hook"}
    _load(tmp_path / "old.db", files, **hook)
    assert _count(tmp_path / "old.db", "alert") == 0
    # the same backlog with a max age of a year: the breaches and warnings would all go out
    _load(tmp_path / "year.db", files, alert_max_age=366 * 86_400.0, **hook)
    assert _count(tmp_path / "year.db", "alert", "\"status\" = 'pending'") > 10


def test_load_command_into_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "t.jsonl", [_ticket(1), _event(1, 1), _event(1, 2)])
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert main(["load", str(path), "--db", db]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("loaded 1 new tickets (0 already there), 2 events (0 already there)")
    assert "\r" not in err  # no progress bar off a terminal
    assert main(["load", str(path), "--db", db]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("loaded 0 new tickets (1 already there), 0 events (2 already there)")
    bad = _jsonl(tmp_path / "bad.jsonl", ["[1]"])
    assert main(["load", str(bad), "--db", db]) == 1
    out, err = capsys.readouterr()
    assert err == f"{bad}:1: bad-value: a line is one JSON object\n"
    assert main(["load", str(tmp_path / "nope.jsonl"), "--db", db]) == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_load_command_into_a_running_server_with_a_token(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "server.py"), "--port", str(port)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "SLA_TOKENS": "w1:write,r1:read"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        path = _jsonl(tmp_path / "t.jsonl", [_ticket(1), _event(1, 1), _event(1, 2)])
        cmd = [sys.executable, "-m", "slarules", "load", str(path), "--url", url]

        def load(*extra: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*cmd, *extra], cwd=ROOT, capture_output=True, text=True, timeout=60
            )

        r = load("--token", "w1")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("loaded 1 new tickets (0 already there), 2 events")
        r = load("--token", "w1")
        assert r.stdout.startswith("loaded 0 new tickets (1 already there), 0 events (2 already")
        r = load("--token", "r1")  # a read token cannot record
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "`write` role" in r.stderr
        r = load()
        assert r.returncode == 2 and "bearer token" in r.stderr
    finally:
        server.terminate()
        server.wait(timeout=20)
