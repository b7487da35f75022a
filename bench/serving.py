"""A real server for the benches: uvicorn on loopback in a thread, one keep-alive client.

`served(app)` yields a `Caller` posting GraphQL over one kept-alive HTTP/1.1 connection
(http.client, no TestClient thread portal); `bare_app()` is a bare strawberry app whose
mutation returns a constant: the floor of a GraphQL mutation round trip measured the
same way. `fire(port, bodies)` posts prepared bodies from another process, one
kept-alive connection per client: the server's throughput when its clients are other
programs (as a help desk's webhooks are), without their CPU in its process.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

# uvicorn's HTTP parser and event loop: "auto" (httptools and uvloop, as `slarules serve`
# runs) unless a bench sets `STACK.update(http="h11", loop="asyncio")` to compare
STACK: dict[str, str] = {"http": "auto", "loop": "auto"}


class Caller:
    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port)

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}})
        self.conn.request("POST", "/graphql", body, {"Content-Type": "application/json"})
        out: dict[str, Any] = json.loads(self.conn.getresponse().read())
        if out.get("errors"):
            raise SystemExit(f"bench query failed: {out['errors'][0]}")
        return out["data"]  # type: ignore[no-any-return]


@contextmanager
def served(app: Any) -> Iterator[Caller]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, **STACK
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    caller = Caller(port)
    try:
        yield caller
    finally:
        caller.conn.close()
        server.should_exit = True
        thread.join()


@strawberry.type
class _Query:
    ping: int = 1


@strawberry.type
class _Mutation:
    @strawberry.mutation
    async def record(self, events: list[str]) -> int:
        return len(events)


BARE_MUTATION = "mutation($e: [String!]!) { record(events: $e) }"


def bare_app() -> Starlette:
    gql: Any = GraphQL(strawberry.Schema(query=_Query, mutation=_Mutation))
    return Starlette(routes=[Route("/graphql", gql, methods=["GET", "POST"])])


_CLIENTS = r"""
import http.client, json, sys, threading, time
bodies, port = json.load(open(sys.argv[1])), int(sys.argv[2])
conns = [http.client.HTTPConnection("127.0.0.1", port) for _ in bodies]
for c in conns:
    c.connect()
bad = []
go = threading.Barrier(len(bodies) + 1)
def run(conn, mine):
    go.wait()
    for b in mine:
        conn.request("POST", "/graphql", b, {"Content-Type": "application/json"})
        r = conn.getresponse().read()
        if b'"errors"' in r:
            bad.append(r[:300])
threads = [threading.Thread(target=run, args=(c, m)) for c, m in zip(conns, bodies)]
for t in threads:
    t.start()
go.wait()
t0 = time.perf_counter()
for t in threads:
    t.join()
print(json.dumps({"seconds": time.perf_counter() - t0, "bad": [x.decode() for x in bad]}))
"""


def fire(port: int, bodies: list[list[dict[str, Any]]]) -> float:
    """Calls per second the server at `port` answered when another process posts the
    JSON `bodies` over one kept-alive connection per client (each client's in order)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump([[json.dumps(b) for b in mine] for mine in bodies], f)
    got = subprocess.run(
        [sys.executable, "-c", _CLIENTS, f.name, str(port)],
        check=True,
        capture_output=True,
        text=True,
    )
    out = json.loads(got.stdout)
    if out["bad"]:
        raise SystemExit(f"bench query failed: {out['bad'][0]}")
    return sum(len(m) for m in bodies) / float(out["seconds"])
