"""Where loaded items go: a small sink protocol, and one GraphQL sink over two transports.

A `Sink` takes raw mappings in the GraphQL input shape (`TicketInput`,
`EventInput`). `GraphQLSink` sends them as `recordTicket` / `recordEvents`
over a `Transport`: `HttpTransport` posts to a running server, `AppTransport`
posts to the same Starlette app built in this process on a database
(`--db`), so both take exactly the intake path of the API.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

TICKETS_PER_REQUEST = 10  # aliased recordTicket calls per request (the server allows 15)


class TransportError(Exception):
    """The server cannot be reached or answered something that is not GraphQL (fatal)."""


@dataclass(frozen=True, slots=True)
class SinkError:
    """A GraphQL error for one input: `extensions.code` (and the rest of the extensions)."""

    code: str
    message: str
    extensions: Mapping[str, Any] = field(default_factory=dict)

    @property
    def index(self) -> int | None:
        """The failing event's index in the batch, when the error says which."""
        i = self.extensions.get("index")
        if isinstance(i, int):
            return i
        for text in (str(self.extensions.get("key") or ""), self.message):
            m = re.search(r"events\[(\d+)\]", text)
            if m:
                return int(m.group(1))
        return None

    @property
    def key(self) -> str | None:
        key = self.extensions.get("key")
        return str(key) if key else None


@dataclass(frozen=True, slots=True)
class EventsResult:
    applied: int
    duplicates: int


class Sink(Protocol):
    def ticket_count(self) -> int:
        """How many tickets are stored."""
        ...

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these tickets are stored already."""
        ...

    def record_tickets(self, tickets: Sequence[Mapping[str, Any]]) -> list[SinkError | None]:
        """Record each ticket; per ticket None (recorded) or its error."""
        ...

    def record_events(self, events: Sequence[Mapping[str, Any]]) -> EventsResult | SinkError:
        """Record a batch in one transaction: all or none (then the error)."""
        ...

    def close(self) -> None: ...


Transport = Callable[[Mapping[str, Any]], dict[str, Any]]  # GraphQL request → response JSON


def _error(e: Mapping[str, Any]) -> SinkError:
    ext = e.get("extensions") or {}
    return SinkError(str(ext.get("code") or "ERROR"), str(e.get("message", "")), ext)


class GraphQLSink:
    """The sink protocol as GraphQL requests (the server's own intake)."""

    def __init__(self, transport: Transport, closer: Callable[[], None] | None = None) -> None:
        self.transport = transport
        self._closer = closer

    def ticket_count(self) -> int:
        got = self.transport({"query": "{ tickets(first: 0) { totalCount } }"})
        if got.get("errors"):
            raise TransportError(f"cannot read tickets: {_error(got['errors'][0]).message}")
        return int(got["data"]["tickets"]["totalCount"])

    def existing(self, ids: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for i in range(0, len(ids), TICKETS_PER_REQUEST):
            part = ids[i : i + TICKETS_PER_REQUEST]
            decl = ", ".join(f"$i{n}: ID!" for n in range(len(part)))
            body = " ".join(f"t{n}: ticket(id: $i{n}) {{ id }}" for n in range(len(part)))
            got = self.transport(
                {
                    "query": f"query Existing({decl}) {{ {body} }}",
                    "variables": {f"i{n}": t for n, t in enumerate(part)},
                }
            )
            if got.get("errors"):
                raise TransportError(f"cannot read tickets: {_error(got['errors'][0]).message}")
            data = got.get("data") or {}
            out.update(t for n, t in enumerate(part) if data.get(f"t{n}"))
        return out

    def record_tickets(self, tickets: Sequence[Mapping[str, Any]]) -> list[SinkError | None]:
        out: list[SinkError | None] = []
        for i in range(0, len(tickets), TICKETS_PER_REQUEST):
            out.extend(self._tickets(tickets[i : i + TICKETS_PER_REQUEST]))
        return out

    def _tickets(self, part: Sequence[Mapping[str, Any]]) -> list[SinkError | None]:
        decl = ", ".join(f"$t{n}: TicketInput!" for n in range(len(part)))
        body = " ".join(f"t{n}: recordTicket(input: $t{n}) {{ id }}" for n in range(len(part)))
        got = self.transport(
            {
                "query": f"mutation RecordTickets({decl}) {{ {body} }}",
                "variables": {f"t{n}": dict(t) for n, t in enumerate(part)},
            }
        )
        errors = got.get("errors") or []
        if not errors:
            return [None] * len(part)
        path = errors[0].get("path") or []
        alias = path[0] if path and isinstance(path[0], str) else None
        if alias is None:  # the request failed as a whole (a bad variable): nothing ran
            if len(part) == 1:
                return [_error(errors[0])]
            return [r for t in part for r in self._tickets([t])]
        # mutations run in order and a failing one (`Ticket!`) ends the request:
        # the ones before it were recorded, the ones after it did not run
        k = int(alias[1:])
        rest = self._tickets(part[k + 1 :]) if k + 1 < len(part) else []
        return [*([None] * k), _error(errors[0]), *rest]

    def record_events(self, events: Sequence[Mapping[str, Any]]) -> EventsResult | SinkError:
        got = self.transport(
            {
                "query": "mutation RecordEvents($events: [EventInput!]!) "
                "{ recordEvents(events: $events) { applied duplicates } }",
                "variables": {"events": [dict(e) for e in events]},
            }
        )
        if got.get("errors"):
            return _error(got["errors"][0])
        r = got["data"]["recordEvents"]
        return EventsResult(int(r["applied"]), int(r["duplicates"]))

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


class HttpTransport:
    """GraphQL over HTTP(S) to a running server, on one kept-alive connection."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 120.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"`{url}` is not an http(s) URL (e.g. http://127.0.0.1:8000)")
        self.url = url
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port
        self.path = parts.path if parts.path not in ("", "/") else "/graphql"
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "User-Agent": "slarules-load"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout)

    def __call__(self, request: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(request, separators=(",", ":")).encode()
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request("POST", self.path, body=body, headers=self.headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                if attempt == 2:
                    raise TransportError(f"{self.url}: {e}") from None
            except OSError as e:
                self.close()
                raise TransportError(f"cannot reach {self.url}: {e.strerror or e}") from None
        try:
            got = json.loads(raw)
        except ValueError:
            raise TransportError(
                f"{self.url} answered HTTP {resp.status}, not GraphQL (is it the /graphql URL?)"
            ) from None
        if not isinstance(got, dict) or ("data" not in got and "errors" not in got):
            raise TransportError(f"{self.url} answered HTTP {resp.status}, not GraphQL")
        errors = got.get("errors") or []
        code = (errors[0].get("extensions") or {}).get("code") if errors else None
        if code in ("UNAUTHENTICATED", "FORBIDDEN"):
            raise TransportError(f"{self.url}: {errors[0].get('message')}")
        return got

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
