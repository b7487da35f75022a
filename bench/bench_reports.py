"""Report benchmarks at a year of tickets (figures, not assertions): issue 18.

    python bench/seed_reports.py sqlite:////tmp/year.db          # once: 100,000 tickets
    python bench/bench_reports.py sqlite:////tmp/year.db [--repeat 3]

Each request goes through the real app (GraphQL or HTTP, in process) and is printed as
the median of `--repeat` runs (with `server`: the median time inside the app, without the
test client's share) beside two floors measured in the same process: the same
SQL statements run bare through the driver (captured from one run), and `{ __typename }`:
the median of the 7 requests that follow each run of the figure (the ratio's floor: a
shared machine's speed drifts within a run), and at the start the median of 51 after 20
warm-up requests.
The export also prints the process RSS before and after, and the peak.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402

from bench.seed_reports import NOW  # noqa: E402
from slarules.app import create_app  # noqa: E402
from slarules.clock import FrozenClock  # noqa: E402
from slarules.runtime import build_ruleset  # noqa: E402
from slarules.settings import Settings, parse_database_url  # noqa: E402
from slarules.store.sql import Sql  # noqa: E402

MONTH = (NOW - timedelta(days=30)).isoformat(), NOW.isoformat()
COMPLIANCE = """query($g: [ComplianceDimension!]!, $from: DateTime!, $to: DateTime!) {
  compliance(from: $from, to: $to, groupBy: $g) {
    day department assignee level metric metCount breachedCount serviceLevel
  }
}"""
LOG = """query($f: SlaLogFilter) {
  slaLog(first: 100, filter: $f) {
    edges { cursor node { ticketId metric state elapsedSeconds dueAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
TICKETS = """query($f: TicketFilter) {
  tickets(first: 50, filter: $f) {
    edges { cursor node { id level { name } cycles { metric state dueAt } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

# every field of a cycle and of the level: what the lazy fields cost when they are selected
TICKETS_FULL = """query($f: TicketFilter) {
  tickets(first: 50, filter: $f) {
    edges { cursor node { id level { name title calendar targets { metric seconds } }
      cycles { metric index state startedAt stoppedAt dueAt breachedAt targetSeconds
        elapsedSeconds remainingSeconds warnings { percent beforeSeconds at }
        timeline { kind at } rulesetVersion counting countingChangesAt } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


class ServerTime:
    """The app with the wall time of each request inside it (from the call to its return:
    the request's work, without the test client's), kept per request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.times.append((time.perf_counter() - start) * 1000)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Bench:
    def __init__(self, client: TestClient, sql: Sql, repeat: int, server: ServerTime) -> None:
        self.c = client
        self.server = server
        self.typename = lambda: self.gql("{ __typename }", {})
        self.sql = sql
        self.repeat = repeat
        self.only = ""
        self.captured: list[tuple[str, tuple[Any, ...]]] = []
        real = Sql.execute

        def spy(this: Sql, cur: Any, text: str, params: Any = ()) -> Any:
            self.captured.append((text, tuple(params)))
            return real(this, cur, text, params)

        sql.execute = spy.__get__(sql)  # type: ignore[method-assign]

    def median_ms(self, fn: Callable[[], Any], repeat: int | None = None) -> float:
        return self.medians(fn, repeat)[0]

    def medians(self, fn: Callable[[], Any], repeat: int | None = None) -> tuple[float, float]:
        """Median wall and CPU milliseconds (CPU: this process, all threads; on a shared,
        busy machine the wall figure includes waiting for a core)."""
        wall, cpu = [], []
        for _ in range(repeat or self.repeat):
            start, c0 = time.perf_counter(), time.process_time()
            fn()
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        return statistics.median(wall), statistics.median(cpu)

    def bare_ms(self, statements: list[tuple[str, tuple[Any, ...]]]) -> float:
        """The captured statements run bare on the store's connection (rows fetched)."""
        s = self.sql

        def run() -> None:
            with s.read() as cur:
                for text, params in statements:
                    cur.execute(s.q(text), params)
                    cur.fetchall()

        return self.median_ms(run)

    def gql(self, query: str, variables: dict[str, Any]) -> Any:
        r = self.c.post("/graphql", json={"query": query, "variables": variables})
        body = r.json()
        if body.get("errors"):
            raise SystemExit(f"bench query failed: {body['errors'][0]}")
        return body["data"]

    def figure(self, name: str, fn: Callable[[], Any], budget: str) -> None:
        if self.only not in name:
            return
        fn()  # warm: plans, caches
        self.captured = []
        fn()
        statements = [
            st for st in self.captured if st[0].lstrip().upper().startswith(("SELECT", "WITH"))
        ]
        # each run followed by 7 `{ __typename }` requests: the floor of the same moment (a
        # shared machine's speed drifts within a run; the start's floor alone skews ratios)
        wall, cpu, inside, here = [], [], [], []
        for _ in range(self.repeat):
            self.server.times.clear()
            w, c = self.medians(fn, 1)
            wall.append(w)
            cpu.append(c)
            inside.append(self.server.times[-1])
            here.extend(self.median_ms(self.typename, 1) for _ in range(7))
        ms, local = statistics.median(wall), statistics.median(here)
        bare = self.bare_ms(statements)
        print(
            f"{name:<46} {ms:8.1f} ms (cpu {statistics.median(cpu):6.1f}, server "
            f"{statistics.median(inside):6.1f})   bare SQL {bare:7.1f} ms   "
            f"{ms / local:5.1f}x typename {local:4.1f} ms   (budget {budget})",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="run the figures whose name contains this")
    a = ap.parse_args()
    live, _ = build_ruleset(ROOT / "examples" / "helpdesk", NOW)
    assert live is not None
    settings = Settings(database=parse_database_url(a.url), scheduler=False)
    app = create_app(settings, FrozenClock(NOW), ruleset=live)
    server = ServerTime(app)
    with TestClient(server) as c:
        rt = app.state.runtime
        counts = rt.store.tickets.counts()
        print(f"{a.url.split(':')[0]}: {counts['ticket']:,} tickets, {counts['cycle']:,} cycles")
        b = Bench(c, rt.store.sql, a.repeat, server)
        b.only = a.only
        typename = lambda: b.gql("{ __typename }", {})  # noqa: E731
        b.medians(typename, 20)  # warm: the first requests of a process are slower
        server.times.clear()
        floor, fcpu = b.medians(typename, 51)
        inside = statistics.median(server.times)
        print(
            f"{'{ __typename }':<46} {floor:8.1f} ms (cpu {fcpu:6.1f}, server {inside:6.1f})"
            "   (the floor)"
        )
        for dims in (
            [],
            ["DAY"],
            ["DEPARTMENT"],
            ["ASSIGNEE"],
            ["LEVEL"],
            ["METRIC"],
            ["DAY", "DEPARTMENT", "METRIC"],
        ):
            v = {"g": dims, "from": MONTH[0], "to": MONTH[1]}
            b.figure(
                f"compliance month by {'+'.join(dims) or 'nothing'}",
                lambda v=v: b.gql(COMPLIANCE, v),
                "< 1 s",
            )
        for name, f in (
            ("no filter", {}),
            ("state BREACHED", {"state": "BREACHED"}),
            ("state ACTIVE", {"state": "ACTIVE"}),
            ("department", {"department": "billing"}),
            ("assignee", {"assignee": "agent7"}),
            ("level urgent", {"level": "urgent"}),
            ("metric", {"metric": "FIRST_RESPONSE"}),
            ("priority + source", {"priority": "critical", "source": "chat"}),
            ("by startedAt, descending", {"orderBy": "startedAt", "descending": True}),
            ("by dueAt", {"orderBy": "dueAt"}),
        ):
            b.figure(f"slaLog(first: 100) {name}", lambda f=f: b.gql(LOG, {"f": f}), "< 50 ms")
        for name, f in (
            ("no filter", {}),
            ("state BREACHED", {"state": "BREACHED"}),
            ("department", {"department": "billing"}),
            ("level none", {"level": "none"}),
            ("hasSla true, priority", {"hasSla": True, "priority": "high"}),
            ("metric + state ACTIVE", {"metric": "RESOLUTION", "state": "ACTIVE"}),
            ("by createdAt", {"orderBy": "createdAt", "descending": True}),
        ):
            b.figure(f"tickets(first: 50) {name}", lambda f=f: b.gql(TICKETS, {"f": f}), "< 50 ms")
        b.figure(
            "tickets(first: 50) BREACHED, every cycle field",
            lambda: b.gql(TICKETS_FULL, {"f": {"state": "BREACHED"}}),
            "none: a full selection",
        )
        # the export: about 100,000 rows (the cycles started in 37 days of the year)
        lo, hi = ((NOW - timedelta(days=d)).isoformat().replace("+00:00", "Z") for d in (160, 123))
        url = f"/export/sla-log.csv?started_from={lo}&started_to={hi}"
        if b.only not in "GET /export/sla-log.csv":
            return
        got = [0, 0]

        def export() -> None:
            with c.stream("GET", url) as r:
                size = lines = 0
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    lines += chunk.count(b"\n")
            got[:] = [size, lines - 1]

        before, peak_before = rss_mib(), peak_mib()
        b.captured = []
        export()  # warm, and the statements it runs (the floor runs them bare)
        statements = [st for st in b.captured if st[0].lstrip().upper().startswith("SELECT")]
        warm = rss_mib()
        wall, cpu = b.medians(export)
        after = rss_mib()
        bare = b.bare_ms(statements) / 1000
        print(
            f"{'GET /export/sla-log.csv':<46} {wall / 1000:8.2f} s  (cpu {cpu / 1000:5.2f} s)   "
            f"bare SQL {bare:5.2f} s   {got[1]:,} rows, {got[0] / 2**20:.1f} MiB; "
            f"RSS {before:.0f} -> {warm:.0f} (first) -> {after:.0f} MiB, peak {peak_before:.0f} -> "
            f"{peak_mib():.0f} MiB   (budget < 5 s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
