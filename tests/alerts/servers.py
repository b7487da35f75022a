"""Server processes for the alert tests: start `server.py` (or a crashing variant), talk HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server.py"

# 24x7, a first response within a minute, warnings after 1 s (2%) and 3 s (5%)
FAST_RULES = """timezone "UTC"

level fast {
  calendar always
  first_response 1m
  warn at 2%, 5%
}

default level fast
"""

# `server.py`, except that the process dies at its first webhook POST: after the alert was
# claimed (committed) and before anything was delivered
CRASHING_SERVER = f"""
import os, sys
sys.path.insert(0, {str(ROOT)!r})
import slarules.alerts.webhook as webhook

def crash(*args, **kwargs):
    os._exit(17)

webhook.post = crash
from slarules.cli import main
sys.exit(main(["serve", *sys.argv[1:]]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def rfc(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


@contextmanager
def server(
    port: int, env: dict[str, str], cwd: Path, script: Path = SERVER
) -> Iterator[subprocess.Popen[str]]:
    """A server process listening on `port` (stopped on exit unless it died)."""
    full = {**os.environ, **env}
    log = open(cwd / f"server-{port}.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", str(port)],
        cwd=cwd,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    try:
        end = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    err = (cwd / f"server-{port}.log").read_text()
                    raise AssertionError(f"server did not start: {err}") from None
                time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def gql(port: int, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        got: dict[str, Any] = json.loads(r.read())
    assert "errors" not in got, got
    return got["data"]  # type: ignore[no-any-return]


RECORD = "mutation($t: TicketInput!) { recordTicket(input: $t) { id level { name } } }"


def record(port: int, ticket_id: str, created: datetime) -> None:
    got = gql(port, RECORD, {"t": {"id": ticket_id, "createdAt": rfc(created), "fields": {}}})
    assert got["recordTicket"]["level"] == {"name": "fast"}
