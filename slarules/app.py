"""The Starlette app factory: routes, middleware, and the lifespan that starts the alerts.

`create_app(settings, clock=…)` builds everything from explicit inputs (no
globals), so tests run several apps side by side with frozen clocks and
their own databases. The store is opened in the lifespan unless given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Route, WebSocketRoute

from slarules.board.routes import routes as board_routes
from slarules.budget import BodyTimeout, CancelOnDisconnect
from slarules.clock import Clock, SystemClock
from slarules.endpoints import AccessLog, export_compliance, export_sla_log, healthz, metrics
from slarules.errors import RulesError
from slarules.graphql.view import ASSET_PATH, SlaGraphQL, graphiql_asset
from slarules.logs import json_line
from slarules.playground import routes as playground_routes
from slarules.runtime import BuildSource, LiveRuleset, Runtime, build_ruleset
from slarules.settings import Settings
from slarules.store import Store

log = logging.getLogger("slarules.app")
_background: set[Any] = set()  # tasks kept referenced until done


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    ruleset: LiveRuleset | None = None,
    store: Store | None = None,
    build_source: BuildSource | None = None,
) -> Starlette:
    """The ASGI app; raises RulesError when the configured rules have errors."""
    clock = clock or SystemClock()
    if ruleset is None:
        live, result = build_ruleset(settings.rules, clock.now())
        if live is None:
            raise RulesError(result.diagnostics)
        ruleset = live
    runtime = Runtime(settings, clock, ruleset, store, build_source)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opened = runtime.store is None
        if opened:
            await run_in_threadpool(runtime.open_store)
        if settings.database.provider == "postgres":
            # one PG connection per worker thread: cap the threads (stack.md 2.9)
            anyio.to_thread.current_default_thread_limiter().total_tokens = settings.db_threads
        await run_in_threadpool(_record_live_ruleset, runtime)
        runtime.loop = asyncio.get_running_loop()
        runtime.attach_alerts()
        await _start_alerts(runtime)
        runtime.start_catch_up()
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
    graphiql: list[BaseRoute] = (
        [Route(f"{ASSET_PATH}/{{name}}", graphiql_asset, methods=["GET", "HEAD"])]
        if settings.graphiql
        else []
    )
    app = Starlette(
        routes=[
            Route("/graphql", gql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", gql),
            *graphiql,
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/export/sla-log.csv", export_sla_log),
            Route("/export/compliance.csv", export_compliance),
            *board_routes(),
            *playground_routes,
        ],
        lifespan=lifespan,
        max_body_size=settings.max_body_size,
    )
    app.state.runtime = runtime
    if settings.cors_origins:
        # Off unless SLA_CORS_ORIGINS lists origins. Bearer tokens, not cookies: no credentials.
        # Inside the access log, so preflights are logged and counted too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"],
            expose_headers=["content-disposition"],
            max_age=600,
        )
    app.add_middleware(CancelOnDisconnect)
    app.add_middleware(BodyTimeout, seconds=settings.body_timeout)
    app.add_middleware(AccessLog, runtime=runtime)
    return app


def app_from_environment() -> Starlette:
    """The app from the SLA_* environment (each `--workers` process calls this)."""
    import os

    from slarules.logs import configure_json_logs
    from slarules.settings import load_settings

    configure_json_logs()  # a spawned worker does not inherit the parent's logging
    return create_app(load_settings(os.environ))


def _record_live_ruleset(rt: Runtime) -> None:
    """Record the ruleset; processes starting at once on one database take turns."""
    from slarules.store.database import startup_lock

    with startup_lock(rt.settings.database):
        rt.record_live_ruleset()


async def _start_alerts(rt: Runtime) -> None:
    from slarules.alerts.scheduler import Scheduler

    s = rt.settings
    if s.database.provider == "postgres":
        from slarules.alerts.listener import AlertListener

        rt.listener = AlertListener(s.database, rt.heard_alert, rt.reloaded_elsewhere)
        await run_in_threadpool(rt.listener.start)
    if s.scheduler:
        rt.scheduler = Scheduler(
            rt.require_service(),
            rt.require_store().alerts,
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
                log.error(json_line(event="ruleset.reload_failed", error=first))

        task = loop.create_task(go())
        _background.add(task)
        task.add_done_callback(_background.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_hup)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True
