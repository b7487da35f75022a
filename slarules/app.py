"""The Starlette app factory: GraphQL at /graphql, CSV exports, /healthz, lifespan.

`create_app(settings, clock=…)` builds everything from explicit inputs (no
globals), so tests run several apps side by side with frozen clocks and
their own databases. The store is opened in the lifespan unless given.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute

from slarules.clock import Clock, SystemClock
from slarules.dsl.source import BuildResult
from slarules.engine.policy import Policy
from slarules.errors import Diagnostic, RulesError
from slarules.graphql.broadcast import Broadcaster
from slarules.graphql.context import check_role, role_for
from slarules.graphql.scalars import parse_instant
from slarules.graphql.view import SlaGraphQL
from slarules.settings import Settings
from slarules.store import Store
from slarules.store.queries import LogFilter
from slarules.store.records import Measure, ServiceError, ValidateFields

log = logging.getLogger("slarules.app")


@dataclass(frozen=True, slots=True)
class LiveRuleset:
    """The ruleset answering requests; swapped as a whole (never half-loaded)."""

    policy: Policy
    loaded_at: datetime
    sources: dict[str, str]
    diagnostics: tuple[Diagnostic, ...] = ()


def build_ruleset(path: Path | str, loaded_at: datetime) -> tuple[LiveRuleset | None, BuildResult]:
    """Read and build the rule files; None (and the diagnostics) when they have errors."""
    from slarules.dsl import build
    from slarules.rulesets import read_sources

    sources = read_sources(path)
    result = build(sources)
    if result.policy is None:
        return None, result
    texts = {s.name: s.data.decode("utf-8", "replace") for s in sources}
    return LiveRuleset(result.policy, loaded_at, texts, result.diagnostics), result


def _build_source(text: str, name: str) -> BuildResult:
    from slarules.dsl import build_source

    return build_source(text, name)


class Runtime:
    """Everything a request needs: settings, clock, store, live ruleset, alert fan-out."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        ruleset: LiveRuleset,
        store: Store | None = None,
        measure: Measure | None = None,
        validate: ValidateFields | None = None,
        build_source: Callable[[str, str], BuildResult] | None = None,
    ) -> None:
        from slarules.store import engine_measure, engine_validate_fields

        self.settings = settings
        self.clock = clock
        self.ruleset = ruleset
        self.store = store
        self.measure: Measure = measure or engine_measure
        self.validate: ValidateFields = validate or engine_validate_fields
        self.build_source = build_source or _build_source
        self.broadcaster = Broadcaster()
        self.remeasuring = 0  # tickets still to re-measure after a reload (issue 6)
        self._reload_lock = threading.Lock()

    def require_store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the store is not open (run the app inside its lifespan)")
        return self.store

    def open_store(self) -> Store:
        self.store = Store.open(self.settings.database, self.measure, self.validate)
        return self.store

    def record_live_ruleset(self) -> None:
        live = self.ruleset
        self.require_store().save_ruleset(live.policy, live.sources, live.loaded_at)

    def reload(self) -> tuple[bool, Sequence[Diagnostic]]:
        """Load the rule files again; keep the old ruleset when the new one has errors."""
        with self._reload_lock:
            try:
                live, result = build_ruleset(self.settings.rules, self.clock.now())
            except RulesError as e:
                return False, e.diagnostics
            if live is None:
                return False, result.diagnostics
            if live.policy.version != self.ruleset.policy.version:
                self.ruleset = live  # one reference swap: requests see old or new, never half
                if self.store is not None:
                    self.record_live_ruleset()
            return True, result.diagnostics


# -- plain HTTP routes -------------------------------------------------------------------


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _authorize(request: Request, needed: str) -> JSONResponse | None:
    rt = _runtime(request)
    try:
        check_role(role_for(rt, request.headers.get("authorization")), needed)  # type: ignore[arg-type]
    except ServiceError as e:
        status = 401 if e.code == "UNAUTHENTICATED" else 403
        return JSONResponse({"error": e.message, "code": e.code}, status_code=status)
    return None


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": "BAD_USER_INPUT"}, status_code=400)


def _instant(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return parse_instant(raw)
    except ValueError as e:
        raise ServiceError("BAD_USER_INPUT", f"`{name}`: {e}") from None


def _upper_enum(request: Request, name: str) -> str | None:
    raw = request.query_params.get(name)
    return raw.strip().lower() if raw else None


async def healthz(request: Request) -> Response:
    rt = _runtime(request)
    ok = rt.store is not None and await run_in_threadpool(rt.store.ping)
    body = {
        "ok": ok,
        "database": "reachable" if ok else "unreachable",
        "ruleset": rt.ruleset.policy.version,
    }
    return JSONResponse(body, status_code=200 if ok else 503)


async def export_sla_log(request: Request) -> Response:
    if (denied := _authorize(request, "read")) is not None:
        return denied
    rt = _runtime(request)
    try:
        q = request.query_params
        f = LogFilter(
            department=q.get("department") or None,
            assignee=q.get("assignee") or None,
            level=q.get("level") or None,
            metric=_upper_enum(request, "metric"),
            state=_upper_enum(request, "state"),
            started_from=_instant(request, "started_from"),
            started_to=_instant(request, "started_to"),
            order_by=q.get("order_by") or "started_at",
            descending=(q.get("descending") or "").lower() in ("1", "true", "yes"),
        )
        now = rt.clock.now()
        policy = rt.ruleset.policy
        store = rt.require_store()
        chunks = store.queries.iter_log(policy, f, now)
        first = await run_in_threadpool(next, chunks, None)  # validates before streaming
    except ServiceError as e:
        return _bad(e.message)

    def lines() -> Iterator[str]:
        from slarules.engine.reports import log_csv

        def rows() -> Iterator[Any]:
            if first is not None:
                yield from first
                for chunk in chunks:
                    yield from chunk

        yield from log_csv(rows())

    return StreamingResponse(
        iterate_in_threadpool(lines()),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="sla-log.csv"'},
    )


async def export_compliance(request: Request) -> Response:
    if (denied := _authorize(request, "read")) is not None:
        return denied
    rt = _runtime(request)
    from slarules.graphql.schema import compliance_rows

    try:
        start, end = _instant(request, "from"), _instant(request, "to")
        if start is None or end is None:
            return _bad("`from` and `to` are required (RFC 3339 with an offset)")
        dims = [
            d.strip().lower()
            for v in request.query_params.getlist("group_by")
            for d in v.split(",")
            if d.strip()
        ]
        allowed = ("day", "department", "assignee", "level", "metric")
        unknown = [d for d in dims if d not in allowed]
        if unknown:
            return _bad(f"`group_by`: unknown dimension `{unknown[0]}` ({', '.join(allowed)})")
        rows = await run_in_threadpool(
            compliance_rows, rt, rt.ruleset.policy, start, end, dims, rt.clock.now()
        )
    except ServiceError as e:
        return _bad(e.message)
    from slarules.engine.reports import compliance_csv

    return StreamingResponse(
        iterate_in_threadpool(compliance_csv(rows)),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="compliance.csv"'},
    )


# -- the app ----------------------------------------------------------------------------


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    ruleset: LiveRuleset | None = None,
    store: Store | None = None,
    measure: Measure | None = None,
    validate: ValidateFields | None = None,
    build_source: Callable[[str, str], BuildResult] | None = None,
) -> Starlette:
    """The ASGI app; raises RulesError when the configured rules have errors."""
    clock = clock or SystemClock()
    if ruleset is None:
        live, result = build_ruleset(settings.rules, clock.now())
        if live is None:
            raise RulesError(result.diagnostics)
        ruleset = live
    runtime = Runtime(settings, clock, ruleset, store, measure, validate, build_source)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opened = runtime.store is None
        if opened:
            await run_in_threadpool(runtime.open_store)
        if settings.database.provider == "postgres":
            # one PG connection per worker thread: cap the threads (stack.md 2.9)
            anyio.to_thread.current_default_thread_limiter().total_tokens = settings.db_threads
        await run_in_threadpool(runtime.record_live_ruleset)
        try:
            yield
        finally:
            runtime.broadcaster.close()
            if opened and runtime.store is not None:
                runtime.store.close()

    gql = SlaGraphQL(runtime)
    app = Starlette(
        routes=[
            Route("/graphql", gql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", gql),
            Route("/healthz", healthz),
            Route("/export/sla-log.csv", export_sla_log),
            Route("/export/compliance.csv", export_compliance),
        ],
        lifespan=lifespan,
        max_body_size=settings.max_body_size,
    )
    app.state.runtime = runtime
    return app
