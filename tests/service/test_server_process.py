"""`python server.py` in a subprocess: start-up line, real HTTP over a socket, clean errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(port: int, query: str, variables: dict[str, object] | None = None) -> dict[str, object]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def test_server_serves_the_bundled_examples_over_a_socket(tmp_path: Path) -> None:
    port = _free_port()
    # run from an unrelated directory: the bundled rules are found relative to the package
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"server did not start: {proc.stderr.read() if proc.stderr else ''}")
        base = f"http://127.0.0.1:{port}"
        assert line == f"slarules: SLA board {base}/  GraphQL API {base}/graphql\n"
        line = proc.stdout.readline()
        assert line.startswith("slarules: rules ") and "examples/helpdesk (version " in line
        assert line.endswith(f"database sqlite:///{tmp_path / 'slarules.db'}\n")
        while True:  # the URL is printed before uvicorn listens: wait for the socket
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            health = json.loads(r.read())
        with urllib.request.urlopen(f"{base}/", timeout=10) as r:  # the printed board URL
            assert r.status == 200 and b"<html" in r.read().lower()
        assert health["ok"] is True and health["database"] == "reachable"
        got = _post(
            port,
            """mutation($t: TicketInput!) { recordTicket(input: $t) {
            id level { name } decidedBy cycles { metric state } } }""",
            {
                "t": {
                    "id": "T-1",
                    "createdAt": "2026-03-02T09:00:00-03:00",
                    "fields": {
                        "status": "new",
                        "source": "email",
                        "tags": ["urgent"],
                        "priority": "high",
                    },
                }
            },
        )
        assert "errors" not in got, got
        t = got["data"]["recordTicket"]  # type: ignore[index]
        assert t["level"] == {"name": "urgent"} and t["decidedBy"] == "Tagged URGENT"
        assert {c["metric"] for c in t["cycles"]} >= {"FIRST_RESPONSE", "RESOLUTION"}
        again = _post(port, '{ ticket(id: "T-1") { id } ruleset { version } }')
        assert again["data"]["ticket"] == {"id": "T-1"}  # type: ignore[index]
        assert (tmp_path / "slarules.db").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--port", "eighty"], "SLA_PORT `eighty` is not a port number"),
        (["--db", "mysql://x/y"], "unknown scheme `mysql`"),
        (["--tokens", "oops"], "is not `token:role`"),
        (["--host", "0.0.0.0"], "is not loopback"),
        (["--rules", "/no/such/dir"], "does not exist"),
        (["--workers", "2"], "SQLite serves one process only"),
    ],
)
def test_bad_setting_is_one_line_and_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    r = subprocess.run(
        [sys.executable, str(SERVER), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and needle in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "slarules.db").exists()


def test_rules_with_errors_print_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "bad.sla").write_text('rule "x" {\n  when status ==\n}\n')
    r = subprocess.run(
        [sys.executable, str(SERVER), "--rules", "bad.sla"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "bad.sla:" in r.stderr and "have errors; not starting" in r.stderr
    assert "Traceback" not in r.stderr


def test_taken_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run(
            [sys.executable, str(SERVER), "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert r.returncode == 2
    assert r.stderr == (
        f"slarules: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(another server runs there? choose one with --port)\n"
    )
    assert r.stdout == ""
