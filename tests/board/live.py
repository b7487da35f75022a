"""A real server for browser tests (uvicorn in a thread on a free loopback port), a GraphQL
client over HTTP, the seeded help-desk tickets, and a headless chromium through Selenium."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from slarules.app import create_app
from slarules.settings import Settings, parse_database_url

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1800",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class LiveServer:
    """The app under uvicorn in a background thread; `loop` is its event loop."""

    def __init__(self, db_file: Path, **settings_kw: Any) -> None:
        self.port = free_port()
        settings = replace(
            Settings(database=parse_database_url(f"sqlite:///{db_file}")),
            port=self.port,
            **settings_kw,
        )
        self.db_file = db_file
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="board-live-server", daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.token: str | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.loop.close()

    def call_soon(self, fn: Any, *args: Any) -> None:
        """Run `fn(*args)` on the server's event loop (e.g. publish an alert)."""
        self.loop.call_soon_threadsafe(fn, *args)

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(f"{self.url}/graphql", data=body, headers=headers)
        with urllib.request.urlopen(req, timeout=30) as r:
            got = json.loads(r.read())
        assert not got.get("errors"), got["errors"]
        return got["data"]  # type: ignore[no-any-return]


@contextmanager
def live_server(db_file: Path, **settings_kw: Any) -> Iterator[LiveServer]:
    srv = LiveServer(db_file, **settings_kw).start()
    try:
        yield srv
    finally:
        srv.stop()


# -- the seeded help desk (bundled examples ruleset, urgent = 24x7, first response 1h) ----

RECORD = """mutation($t: TicketInput!) { recordTicket(input: $t) { id } }"""
EVENTS = """mutation($e: [EventInput!]!) { recordEvents(events: $e) { applied } }"""
ALL = """query($after: String) { tickets(first: 500, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { id fields level { name } cycles { metric index state dueAt stoppedAt } } } } }"""


@dataclass(frozen=True)
class Seed:
    id: str
    minutes_ago: int
    department: str
    assignee: str
    tags: tuple[str, ...] = ("urgent",)
    events: tuple[tuple[str, int, dict[str, Any]], ...] = ()  # (kind, minutes ago, payload)


SEEDS = (
    Seed("B-1", 180, "billing", "ana"),  # first response breached 2h ago
    Seed("B-2", 90, "tech", "bruno"),  # first response breached 30m ago
    Seed("W-1", 50, "tech", "ana"),  # 80% warning reached, 10m left
    Seed("F-1", 10, "billing", "bruno"),  # 50m left
    Seed("F-2", 5, "tech", "ana"),  # 55m left
    Seed("M-1", 30, "billing", "carla", events=(("message", 2, {"by": "AGENT"}),)),
    Seed(
        "M-OLD",
        3000,
        "billing",
        "carla",
        events=(("message", 2950, {"by": "AGENT"}), ("status", 2930, {"status": "solved"})),
    ),
    Seed("P-1", 20, "tech", "bruno", events=(("status", 15, {"status": "waiting for vendor"}),)),
    Seed("S-1", 40, "tech", "ana", tags=("spam",)),
    Seed("STD-1", 1, "tech", "carla", tags=()),
)


def seed(srv: LiveServer, now: datetime, seeds: tuple[Seed, ...] = SEEDS) -> None:
    for s in seeds:
        created = now - timedelta(minutes=s.minutes_ago)
        fields: dict[str, Any] = {
            "status": "new",
            "source": "email",
            "priority": "high",
            "tags": list(s.tags),
            "department": s.department,
            "assignee": s.assignee,
            "subject": f"seeded ticket {s.id}",
        }
        srv.gql(RECORD, {"t": {"id": s.id, "createdAt": iso(created), "fields": fields}})
        events = []
        for n, (kind, ago, payload) in enumerate(s.events):
            e: dict[str, Any] = {
                "eventId": f"{s.id}-e{n}",
                "ticketId": s.id,
                "at": iso(now - timedelta(minutes=ago)),
            }
            if kind == "message":
                e["message"] = payload
            else:
                e["status"] = payload["status"]
            events.append(e)
        if events:
            srv.gql(EVENTS, {"e": events})


def all_tickets(srv: LiveServer) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = srv.gql(ALL, {"after": after})["tickets"]
        out.extend(e["node"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def clone_tickets(db_file: Path, template: str, n: int) -> None:
    """Copy one recorded ticket (and its derived rows) n times, straight in SQLite (setup speed)."""
    con = sqlite3.connect(db_file, timeout=30)
    try:

        def cols(table: str) -> list[str]:
            return [r[1] for r in con.execute(f'PRAGMA table_info("{table}")') if r[1] != "id"]

        tcols = ['"id"', *(f'"{c}"' for c in cols("ticket"))]
        tsel = ["printf('P%05d', n.i)", *(f't."{c}"' for c in cols("ticket"))]
        seq = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        with con:
            con.execute(
                f'{seq}INSERT INTO "ticket" ({", ".join(tcols)}) '
                f'SELECT {", ".join(tsel)} FROM "ticket" t, n WHERE t."id" = ?',
                (n, template),
            )
            for table in ("cycle", "event", "evaluation"):
                names = cols(table)
                sel = [("printf('P%05d', n.i)" if c == "ticket_id" else f'x."{c}"') for c in names]
                quoted = ", ".join(f'"{c}"' for c in names)
                con.execute(
                    f'{seq}INSERT INTO "{table}" ({quoted}) '
                    f'SELECT {", ".join(sel)} FROM "{table}" x, n WHERE x."ticket_id" = ?',
                    (n, template),
                )
    finally:
        con.close()


# -- the browser --------------------------------------------------------------------------


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]', or run .ci/install-browser)"
    for exe in ("chromium", "chromedriver"):
        if shutil.which(exe) is None:
            return f"`{exe}` not found (Debian: apt-get install chromium chromium-driver)"
    return None


@contextmanager
def chromium(*extra_flags: str) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download anything
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (*CHROME_FLAGS, *extra_flags):
        opts.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="board-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    service = Service(
        shutil.which("chromedriver") or "/usr/bin/chromedriver",
        env={**os.environ, "TZ": "UTC"},  # the page's "today" is a UTC day, as in the test
    )
    try:
        driver = webdriver.Chrome(options=opts, service=service)
    except WebDriverException as e:
        shutil.rmtree(profile, ignore_errors=True)
        first = (e.msg or str(e)).strip().splitlines()[0]
        pytest.skip(f"headless chromium did not start: {first}")
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
