"""Alert and reload benchmarks (figures, not assertions): `python bench/bench_alerts.py [--quick]`.

1. Alert latency: a server (uvicorn, wall clock, SQLite) with 10,000 open tickets, of
   which a few hundred reach a warning during the run, one after another; a webhook
   receiver on loopback notes when each POST arrives. Latency = receipt - due instant.
2. Reload of a 200-rule ruleset with 10,000 open tickets: queries run throughout
   (failures, latency), and the time until every open ticket is re-measured.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from slarules.app import create_app  # noqa: E402
from slarules.clock import SystemClock  # noqa: E402
from slarules.settings import Settings, parse_database_url  # noqa: E402

LEVELS = """timezone "UTC"

level fast {
  calendar always
  first_response 10m
  warn at 50%
}

level slow {
  calendar always
  first_response 8h
  resolution 40h
  warn at 50%, 80%
}

level steady {
  calendar always
  first_response 6h
  resolution 30h
  warn at 75%
}
"""


def rules_file(n: int, flip: bool = False) -> str:
    """`n` rules on the department (plus one for `fast`), alternating two levels."""
    out = ["default level slow", ""]
    for i in range(n):
        level = ("steady", "slow")[(i + flip) % 2]
        out += [
            f'rule "Department {i}" {{',
            f'  when department == "d{i}"',
            f"  set level {level}",
            "}",
            "",
        ]
    out += [
        'rule "Fast lane" {',
        '  when tags contains "fast"',
        "  set level fast",
        "  stop",
        "}",
        "",
    ]
    return "\n".join(out)


class Receipts:
    def __init__(self) -> None:
        self.lags: list[float] = []
        self.ids: list[str] = []
        self.lock = threading.Lock()


def receiver(rec: Receipts) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            now = time.time()
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            due = datetime.fromisoformat(body["at"].replace("Z", "+00:00")).timestamp()
            with rec.lock:
                rec.lags.append(now - due)
                rec.ids.append(body["id"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    class Backlog(ThreadingHTTPServer):
        request_queue_size = 128  # the default 5 drops concurrent SYNs: a 1 s retransmit

    srv = Backlog(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Server:
    """The app under uvicorn in a thread, with a keep-alive client."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings, SystemClock())
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def client(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()


def post(conn: http.client.HTTPConnection, query: str, variables: Any = None) -> dict[str, Any]:
    conn.request(
        "POST",
        "/graphql",
        json.dumps({"query": query, "variables": variables or {}}),
        {"Content-Type": "application/json"},
    )
    r = conn.getresponse()
    out: dict[str, Any] = json.loads(r.read())
    if r.status != 200 or out.get("errors"):
        raise RuntimeError(f"query failed ({r.status}): {out.get('errors')}")
    return out


def seed(srv: Server, n: int, start: datetime) -> float:
    """`n` open tickets straight through the app's store (setup, not the API)."""
    rt = srv.runtime
    t = time.perf_counter()
    for i in range(n):
        rt.service.record_ticket(
            rt.ruleset.policy,
            {
                "id": f"S{i:06}",
                "created_at": start,
                "fields": {"status": "new", "department": f"d{i % 250}"},
            },
            rt.clock.now(),
        )
    return time.perf_counter() - t


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def bench_latency(d: Path, open_tickets: int, alerts: int) -> None:
    rules = d / "rules"
    rules.mkdir()
    (rules / "10-levels.sla").write_text(LEVELS)
    (rules / "20-rules.sla").write_text(rules_file(200))
    rec = Receipts()
    hook = receiver(rec)
    settings = Settings(
        rules=rules,
        database=parse_database_url(f"sqlite:///{d / 'latency.db'}"),
        webhook_url=f"http://127.0.0.1:{hook.server_address[1]}/hook",
    )
    srv = Server(settings)
    try:
        took = seed(srv, open_tickets - alerts, datetime.now(UTC).replace(microsecond=0))
        print(f"  seeded {open_tickets - alerts:,} open tickets in {took:.1f} s")
        conn = srv.client()
        spread = max(1, alerts // 10)  # about ten warnings per second
        # the first warning comes after every fast ticket is recorded (about 20 ms each)
        lead = 3 + alerts // 25
        base = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead)
        for i in range(alerts):  # each warns 5 min after its creation: base + i/10 s
            created = base + timedelta(seconds=i * spread // alerts) - timedelta(seconds=300)
            post(
                conn,
                "mutation($t: TicketInput!) { recordTicket(input: $t) { id } }",
                {
                    "t": {
                        "id": f"F{i:05}",
                        "createdAt": created.isoformat(),
                        "fields": {"status": "new", "tags": ["fast"]},
                    }
                },
            )
        late = datetime.now(UTC) > base
        end = time.monotonic() + lead + spread + 20
        while len(rec.lags) < alerts and time.monotonic() < end:
            time.sleep(0.1)
        conn.close()
    finally:
        srv.stop()
        hook.shutdown()
    lags = rec.lags
    if not lags:
        print("  no alert arrived")
        return
    print(
        f"  alert latency over {len(lags)} warnings ({open_tickets:,} open tickets): "
        f"p50 {pct(lags, 50) * 1000:.0f} ms, p95 {pct(lags, 95) * 1000:.0f} ms, "
        f"p99 {pct(lags, 99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms; "
        f"duplicates {len(rec.ids) - len(set(rec.ids))}"
        + (" (recording overran the first due instant)" if late else "")
    )


def bench_reload(d: Path, open_tickets: int) -> None:
    rules = d / "reload-rules"
    rules.mkdir()
    (rules / "10-levels.sla").write_text(LEVELS)
    (rules / "20-rules.sla").write_text(rules_file(200))
    settings = Settings(rules=rules, database=parse_database_url(f"sqlite:///{d / 'reload.db'}"))
    srv = Server(settings)
    stop = threading.Event()
    lat: list[float] = []
    failures: list[str] = []

    def load() -> None:
        conn = srv.client()
        q = (
            '{ ticket(id: "S000001") { level { name } cycles { state } } '
            "tickets(first: 20) { totalCount } ruleset { version remeasuring } }"
        )
        while not stop.is_set():
            t = time.perf_counter()
            try:
                post(conn, q)
            except Exception as e:
                failures.append(str(e))
                conn.close()
                conn = srv.client()
            lat.append(time.perf_counter() - t)
        conn.close()

    try:
        took = seed(srv, open_tickets, datetime.now(UTC).replace(microsecond=0))
        print(f"  seeded {open_tickets:,} open tickets in {took:.1f} s")
        (rules / "20-rules.sla").write_text(rules_file(200, flip=True))
        threads = [threading.Thread(target=load) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        before = len(lat)
        conn = srv.client()
        t0 = time.perf_counter()
        got = post(conn, "mutation { reloadRules { ok ruleset { version remeasuring } } }")
        swap = time.perf_counter() - t0
        assert got["data"]["reloadRules"]["ok"], got
        while srv.runtime.remeasuring > 0 or srv.runtime._remeasure_task is None:
            time.sleep(0.05)
        while not srv.runtime._remeasure_task.done():
            time.sleep(0.05)
        total = time.perf_counter() - t0
        during = lat[before:]
        stop.set()
        for t in threads:
            t.join()
        conn.close()
    finally:
        stop.set()
        srv.stop()
    print(
        f"  reload of 200 rules with {open_tickets:,} open tickets: swap {swap * 1000:.0f} ms, "
        f"re-measure {total:.1f} s; {len(during):,} queries meanwhile, {len(failures)} failed, "
        f"p50 {pct(during, 50) * 1000:.0f} ms, p99 {pct(during, 99) * 1000:.0f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2,000 open tickets instead of 10,000")
    args = ap.parse_args()
    n = 2_000 if args.quick else 10_000
    print("slarules alert bench (real engine, SQLite, uvicorn, loopback webhook)")
    with tempfile.TemporaryDirectory() as d:
        bench_latency(Path(d), n, 100 if args.quick else 300)
        bench_reload(Path(d), n)


if __name__ == "__main__":
    main()
