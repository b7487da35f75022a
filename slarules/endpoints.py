"""Plain HTTP beside GraphQL: /healthz, /metrics, the CSV exports, and the JSON access log."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from itertools import chain
from typing import Any

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from slarules.auth import check_role, role_for
from slarules.errors import ServiceError
from slarules.instants import in_supported_years
from slarules.instants import parse_rfc3339 as parse_instant
from slarules.logs import json_line
from slarules.metrics import CONTENT_TYPE
from slarules.runtime import Runtime
from slarules.service import LogFilter

access_log = logging.getLogger("slarules.access")


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _authorize(request: Request, needed: str) -> JSONResponse | None:
    rt = _runtime(request)
    try:
        check_role(role_for(rt.settings, request.headers.get("authorization")), needed)  # type: ignore[arg-type]
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
        return in_supported_years(parse_instant(raw), f"`{name}`")
    except ValueError as e:
        raise ServiceError("BAD_USER_INPUT", f"`{name}`: {e}") from None


def _upper_enum(request: Request, name: str) -> str | None:
    raw = request.query_params.get(name)
    return raw.strip().lower() if raw else None


async def healthz(request: Request) -> Response:
    """Readiness: the database answers and the alert scheduler runs (when enabled).

    No token is needed; the text of a scheduler error is shown only to a request with a
    valid token (or when no tokens are configured). `remeasuring` counts the open tickets
    still to re-measure in the background; `ruleset_current` is true once none is left."""
    rt = _runtime(request)
    trusted = role_for(rt.settings, request.headers.get("authorization")) is not None
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
        detail = (rt.scheduler.last_error or "stopped") if trusted else "see the server log"
        sched, sched_ok = f"failing: {detail}", False
    ok = db_ok and sched_ok
    body: dict[str, Any] = {
        "ok": ok,
        "database": "reachable" if db_ok else "unreachable",
        "scheduler": sched,
        "ruleset": rt.ruleset.policy.version,
        "remeasuring": rt.remeasuring,
        "ruleset_current": rt.ruleset_current,
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


def _log_filter(request: Request) -> LogFilter:
    """The SLA-log filter of an export's query (the same fields as `SlaLogFilter`)."""
    q = request.query_params
    return LogFilter(
        department=q.get("department") or None,
        assignee=q.get("assignee") or None,
        level=q.get("level") or None,
        metric=_upper_enum(request, "metric"),
        state=_upper_enum(request, "state"),
        started_from=_instant(request, "started_from"),
        started_to=_instant(request, "started_to"),
        order_by=q.get("order_by") or "started_at",
        descending=(q.get("descending") or "").lower() in ("1", "true", "yes"),
        priority=q.get("priority") or None,
        source=q.get("source") or None,
    )


async def export_sla_log(request: Request) -> Response:
    """The SLA log as CSV, streamed: keyset chunks of driver tuples written by csv.writer
    as they are read, each chunk one piece of the body (memory stays flat whatever the
    size). The header comes after the first chunk is read: a bad filter is a 400."""
    if (denied := _authorize(request, "read")) is not None:
        return denied
    rt = _runtime(request)
    try:
        f = _log_filter(request)
        pieces = rt.require_service().log_csv(rt.ruleset.policy, f, rt.clock.now())
        header = await run_in_threadpool(next, pieces)  # validates before streaming
    except ServiceError as e:
        return _bad(e.message)

    return StreamingResponse(
        iterate_in_threadpool(chain([header], pieces)),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="sla-log.csv"'},
    )


async def export_compliance(request: Request) -> Response:
    """The compliance report as CSV, with the SLA-log export's filter parameters."""
    if (denied := _authorize(request, "read")) is not None:
        return denied
    rt = _runtime(request)
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
        f = _log_filter(request)
        rows = await run_in_threadpool(
            rt.require_service().compliance,
            rt.ruleset.policy,
            start,
            end,
            dims,
            rt.clock.now(),
            f,
        )
    except ServiceError as e:
        return _bad(e.message)
    from slarules.engine.reports import compliance_csv

    return StreamingResponse(
        iterate_in_threadpool(compliance_csv(rows)),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="compliance.csv"'},
    )


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
                    json_line(
                        event="request",
                        method=scope.get("method"),
                        path=scope.get("path"),
                        status=status,
                        ms=ms,
                        client=client[0],
                    )
                )
