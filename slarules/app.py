"""The Starlette app factory: GraphQL at /graphql, CSV exports, /healthz, lifespan.

`create_app(settings, clock=…)` builds everything from explicit inputs (no
globals), so tests run several apps side by side with frozen clocks and
their own databases. The store is opened in the lifespan unless given.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute

from slarules.board.routes import routes as board_routes
from slarules.clock import Clock, SystemClock
from slarules.dsl.source import BuildResult
from slarules.engine.policy import Policy
from slarules.errors import Diagnostic, RulesError
from slarules.graphql.broadcast import AlertMessage, Broadcaster
from slarules.graphql.context import check_role, role_for
from slarules.graphql.scalars import parse_instant
from slarules.graphql.view import SlaGraphQL
from slarules.metrics import CONTENT_TYPE, Metrics
from slarules.settings import Settings
from slarules.store import Store
from slarules.store.alerts import RELOAD_CHANNEL, PlannedAlert
from slarules.store.queries import LogFilter
from slarules.store.records import Measure, ServiceError, ValidateFields

if TYPE_CHECKING:
    from slarules.alerts.listener import AlertListener
    from slarules.alerts.scheduler import Scheduler

log = logging.getLogger("slarules.app")
access_log = logging.getLogger("slarules.access")
REMEASURE_BATCH = 200
_background: set[Any] = set()  # tasks kept referenced until done


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
        self.metrics = Metrics()
        self.metrics.set_ruleset(ruleset.policy.version)
        self.remeasuring = 0  # tickets still to re-measure after a reload
        self.scheduler: Scheduler | None = None
        self.listener: AlertListener | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._reload_lock = threading.Lock()
        self._remeasure_task: Any = None  # the background re-measure after a reload
        self.instance = uuid.uuid4().hex[:12]  # tells this process's notifications apart

    def require_store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the store is not open (run the app inside its lifespan)")
        return self.store

    def open_store(self) -> Store:
        self.store = Store.open(self.settings.database, self.measure, self.validate)
        return self.store

    # -- alerts ------------------------------------------------------------------------

    def attach_alerts(self) -> None:
        """Hook the store's outbox to subscriptions, metrics and the scheduler (lifespan)."""
        store = self.require_store()
        store.tickets.alerts.webhook = bool(self.settings.webhook_url)
        store.tickets.alerts.max_age = self.settings.alert_max_age
        store.tickets.on_alerts = self._raised
        store.tickets.on_change = self.wake_scheduler
        self.metrics.watch_cycles(lambda: store.cycle_states(self.clock.now()))

    def wake_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()

    def _raised(self, alerts: Sequence[PlannedAlert]) -> None:
        """Alerts committed by this process (any thread): count; publish unless PG fans out."""
        self.metrics.alerts_due.inc(len(alerts))
        if self.listener is None:
            for a in alerts:
                self.publish_payload(a.payload)

    def publish_payload(self, payload: dict[str, Any]) -> None:
        """Hand an alert (its JSON) to this process's subscribers; thread-safe."""
        msg = alert_message(payload)
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.broadcaster.publish, msg)

    def record_live_ruleset(self) -> None:
        live = self.ruleset
        self.require_store().save_ruleset(live.policy, live.sources, live.loaded_at)

    def reload(self, fan_out: bool = True) -> tuple[bool, Sequence[Diagnostic]]:
        """Load the rule files again; keep the old ruleset when the new one has errors.

        The process that reloads re-measures the open tickets and, on PostgreSQL,
        tells the other server processes to load the files too (`fan_out`).
        """
        with self._reload_lock:
            try:
                live, result = build_ruleset(self.settings.rules, self.clock.now())
            except RulesError as e:
                return False, e.diagnostics
            except OSError as e:  # a file vanished or cannot be read mid-deploy
                where = str(getattr(e, "filename", None) or self.settings.rules)
                reason = e.strerror or str(e)
                return False, [Diagnostic("error", "io", f"cannot read `{where}`: {reason}", where)]
            if live is None:
                return False, result.diagnostics
            if live.policy.version != self.ruleset.policy.version:
                if self.store is not None:
                    self.record_live_ruleset_of(live)
                self.ruleset = live  # one reference swap: requests see old or new, never half
                self.metrics.set_ruleset(live.policy.version)
                log.info(_json(event="ruleset.reload", version=live.policy.version))
                if fan_out:
                    self._start_remeasure(live.policy)
                    if self.store is not None:
                        payload = _json(version=live.policy.version, origin=self.instance)
                        self.store.notify(RELOAD_CHANNEL, payload)
            return True, result.diagnostics

    def _reloaded_elsewhere(self, note: dict[str, Any]) -> None:
        """Another process reloaded (listener thread): load the same files, no re-measure."""
        if (
            note.get("origin") == self.instance
            or note.get("version") == self.ruleset.policy.version
        ):
            return
        ok, diags = self.reload(fan_out=False)
        if not ok or self.ruleset.policy.version != note.get("version"):
            first = diags[0].render().splitlines()[0] if diags else "the files differ"
            log.error(
                _json(
                    event="ruleset.reload_mismatch",
                    wanted=note.get("version"),
                    live=self.ruleset.policy.version,
                    error=first,
                )
            )

    def record_live_ruleset_of(self, live: LiveRuleset) -> None:
        self.require_store().save_ruleset(live.policy, live.sources, live.loaded_at)

    def _start_remeasure(self, policy: Policy) -> None:
        """Re-measure every ticket that is not done under `policy`, in the background.

        Called from `reload` in a worker thread: the count is known (and shown as
        `ruleset.remeasuring`) before the reload answers.
        """
        loop = self.loop
        if loop is None or loop.is_closed() or self.store is None:
            return
        ids = self.store.tickets.open_ids()
        self.remeasuring = len(ids)
        self.metrics.remeasuring.set(self.remeasuring)
        coro = self._remeasure_all(policy, ids)
        self._remeasure_task = asyncio.run_coroutine_threadsafe(coro, loop)

    async def _remeasure_all(self, policy: Policy, ids: Sequence[str]) -> None:
        store = self.require_store()
        started = time.perf_counter()
        try:
            for i in range(0, len(ids), REMEASURE_BATCH):
                if self.ruleset.policy is not policy:
                    return  # a newer reload took over (it re-measures everything again)
                part = ids[i : i + REMEASURE_BATCH]
                n = await run_in_threadpool(store.tickets.remeasure, policy, part, self.clock.now())
                self.metrics.tickets_remeasured.inc(n)
                self.remeasuring = max(0, len(ids) - i - len(part))
                self.metrics.remeasuring.set(self.remeasuring)
        except Exception:
            log.exception("re-measure after reload failed")
        finally:
            if self.ruleset.policy is policy:
                self.remeasuring = 0
                self.metrics.remeasuring.set(0)
        log.info(
            _json(
                event="ruleset.remeasured",
                version=policy.version,
                tickets=len(ids),
                seconds=round(time.perf_counter() - started, 3),
            )
        )


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
    """Readiness: the database answers and the alert scheduler runs (when enabled)."""
    rt = _runtime(request)
    db_ok = rt.store is not None and await run_in_threadpool(rt.store.ping)
    if not rt.settings.scheduler:
        sched, sched_ok = "disabled", True
    elif rt.scheduler is None:
        sched, sched_ok = "stopped", False
    elif rt.scheduler.healthy:
        sched, sched_ok = "running", True
    elif rt.scheduler.passes == 0 and rt.scheduler.last_error is None:
        sched, sched_ok = "starting", True
    else:
        sched, sched_ok = f"failing: {rt.scheduler.last_error or 'stopped'}", False
    ok = db_ok and sched_ok
    body: dict[str, Any] = {
        "ok": ok,
        "database": "reachable" if db_ok else "unreachable",
        "scheduler": sched,
        "ruleset": rt.ruleset.policy.version,
        "remeasuring": rt.remeasuring,
    }
    if rt.listener is not None:
        body["listener"] = "listening" if rt.listener.listening else "reconnecting"
    return JSONResponse(body, status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    """Prometheus text format (the `read` role when tokens are configured)."""
    if (denied := _authorize(request, "read")) is not None:
        return denied
    rt = _runtime(request)
    body = await run_in_threadpool(rt.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)


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
        runtime.loop = asyncio.get_running_loop()
        runtime.attach_alerts()
        await _start_alerts(runtime)
        hup = _install_sighup(runtime)
        try:
            yield
        finally:
            if hup:
                with contextlib.suppress(Exception):
                    runtime.loop.remove_signal_handler(signal.SIGHUP)
            await _stop_alerts(runtime)
            if runtime._remeasure_task is not None:
                runtime._remeasure_task.cancel()
            runtime.broadcaster.close()
            if opened and runtime.store is not None:
                runtime.store.close()

    gql = SlaGraphQL(runtime)
    app = Starlette(
        routes=[
            Route("/graphql", gql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", gql),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/export/sla-log.csv", export_sla_log),
            Route("/export/compliance.csv", export_compliance),
            *board_routes(),
        ],
        lifespan=lifespan,
        max_body_size=settings.max_body_size,
    )
    app.state.runtime = runtime
    app.add_middleware(AccessLog, runtime=runtime)
    return app


def app_from_environment() -> Starlette:
    """The app from the SLA_* environment (each `--workers` process calls this)."""
    import os

    from slarules.logs import configure_json_logs
    from slarules.settings import load_settings

    configure_json_logs()  # a spawned worker does not inherit the parent's logging
    return create_app(load_settings(os.environ))


async def _start_alerts(rt: Runtime) -> None:
    from slarules.alerts.scheduler import Scheduler

    store = rt.require_store()
    s = rt.settings
    if s.database.provider == "postgres":
        from slarules.alerts.listener import AlertListener

        rt.listener = AlertListener(s.database, rt.publish_payload, rt._reloaded_elsewhere)
        await run_in_threadpool(rt.listener.start)
    if s.scheduler:
        rt.scheduler = Scheduler(
            store,
            rt.clock,
            lambda: rt.ruleset.policy,
            rt.metrics,
            webhook_url=s.webhook_url,
            webhook_secret=s.webhook_secret,
            webhook_timeout=s.webhook_timeout,
            lease=s.alert_lease,
        )
        rt.scheduler.start()


async def _stop_alerts(rt: Runtime) -> None:
    if rt.scheduler is not None:
        await rt.scheduler.stop()
        rt.scheduler = None
    if rt.listener is not None:
        await run_in_threadpool(rt.listener.stop)
        rt.listener = None


def _install_sighup(rt: Runtime) -> bool:
    """SIGHUP reloads the rules (main thread only: not under a test client)."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return False
    loop = asyncio.get_running_loop()

    def on_hup() -> None:
        async def go() -> None:
            try:
                ok, diags = await run_in_threadpool(rt.reload)
            except Exception:
                log.exception("reload on SIGHUP failed")
                return
            if not ok:
                first = diags[0].render().splitlines()[0] if diags else "errors"
                log.error(_json(event="ruleset.reload_failed", error=first))

        task = loop.create_task(go())
        _background.add(task)
        task.add_done_callback(_background.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_hup)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True


def alert_message(p: dict[str, Any]) -> AlertMessage:
    """An outbox payload → the subscription's message."""
    return AlertMessage(
        id=p["id"],
        kind=str(p["kind"]).lower(),
        ticket_id=p["ticketId"],
        metric=str(p["metric"]).lower(),
        cycle_index=int(p["cycleIndex"]),
        at=parse_instant(p["at"]),
        level=p.get("level") or "",
        percent=p.get("percent"),
        before_seconds=p.get("beforeSeconds"),
        assignee=p.get("assignee"),
        department=p.get("department"),
    )


def _json(**fields: Any) -> str:
    return json.dumps(fields, separators=(",", ":"), default=str)


class AccessLog:
    """One JSON log line per HTTP request (pure ASGI: streaming responses stay streamed)."""

    def __init__(self, app: Any, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            ms = round((time.perf_counter() - started) * 1000, 2)
            self.runtime.metrics.requests.labels(scope.get("method", ""), str(status)).inc()
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client") or ("", 0)
                access_log.info(
                    _json(
                        event="request",
                        method=scope.get("method"),
                        path=scope.get("path"),
                        status=status,
                        ms=ms,
                        client=client[0],
                    )
                )
