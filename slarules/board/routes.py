"""The SLA board's routes: the page at `/` and `/board`, its static assets, open hours.

The page is plain HTML, CSS and JavaScript shipped in this package (no CDN, no
build step); it talks to `/graphql` like any other front end. `open-hours` gives
a level calendar's open intervals so a ticket's timeline can shade business hours,
and `calendars` each calendar's time zone so due instants are shown in it (the
GraphQL contract exposes only the calendar's name).
"""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from slarules.auth import check_role, role_for
from slarules.errors import ServiceError
from slarules.instants import in_supported_years
from slarules.instants import parse_rfc3339 as parse_instant

JS = "text/javascript; charset=utf-8"
ASSETS: dict[str, str] = {
    "format.js": JS,
    "api.js": JS,
    "timeline.js": JS,
    "compliance.js": JS,
    "board.js": JS,
    "board.css": "text/css; charset=utf-8",
}
MAX_OPEN_HOURS_SPAN = timedelta(days=62)
# Same-origin only: the page loads nothing from elsewhere, and the header says so.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _read(name: str) -> bytes:
    return resources.files("slarules.board").joinpath(name).read_bytes()


async def page(request: Request) -> Response:
    """The board page (the same document at `/` and `/board`)."""
    return Response(
        _read("index.html"),
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
    )


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = ASSETS.get(name)
    if media_type is None:
        return JSONResponse({"error": f"no asset `{name}`", "code": "NOT_FOUND"}, status_code=404)
    return Response(_read(name), media_type=media_type, headers={"Cache-Control": "no-cache"})


def _error(code: str, message: str) -> JSONResponse:
    status = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}.get(code, 400)
    return JSONResponse({"error": message, "code": code}, status_code=status)


async def open_hours(request: Request) -> Response:
    """`?calendar=NAME&from=T&to=T` → the calendar's open intervals in [from, to) (read role)."""
    runtime: Any = request.app.state.runtime
    q = request.query_params
    try:
        check_role(role_for(runtime.settings, request.headers.get("authorization")), "read")
        name = q.get("calendar") or ""
        calendar = runtime.ruleset.policy.calendars.get(name)
        if calendar is None:
            raise ServiceError("BAD_USER_INPUT", f"`calendar`: no calendar `{name}`")
        try:
            start = in_supported_years(parse_instant(q.get("from") or ""), "`from`")
            end = in_supported_years(parse_instant(q.get("to") or ""), "`to`")
        except ValueError as e:
            raise ServiceError("BAD_USER_INPUT", f"`from`/`to`: {e}") from None
        if not start < end <= start + MAX_OPEN_HOURS_SPAN:
            raise ServiceError(
                "BAD_USER_INPUT", "`from` must be before `to`, at most 62 days apart"
            )
    except ServiceError as e:
        return _error(e.code, e.message)

    def intervals() -> list[list[str]]:
        return [
            [s.isoformat().replace("+00:00", "Z"), e.isoformat().replace("+00:00", "Z")]
            for s, e in calendar.open_intervals(start, end)
        ]

    return JSONResponse({"calendar": name, "intervals": await run_in_threadpool(intervals)})


async def calendars(request: Request) -> Response:
    """Each calendar's IANA time zone and the ruleset's own (read role)."""
    runtime: Any = request.app.state.runtime
    try:
        check_role(role_for(runtime.settings, request.headers.get("authorization")), "read")
    except ServiceError as e:
        return _error(e.code, e.message)
    policy = runtime.ruleset.policy
    return JSONResponse(
        {
            "timeZone": policy.timezone.key,
            "calendars": {name: c.spec.timezone for name, c in policy.calendars.items()},
        }
    )


def routes() -> list[BaseRoute]:
    """Mount with `Starlette(routes=[..., *routes()])`."""
    return [
        Route("/", page, methods=["GET", "HEAD"]),
        Route("/board", page, methods=["GET", "HEAD"]),
        Route("/board/open-hours", open_hours, methods=["GET"]),
        Route("/board/calendars", calendars, methods=["GET"]),
        Route("/board/{name}", asset, methods=["GET", "HEAD"]),
    ]
