"""The SLA board's routes: the page at `/` and `/board`, its static assets, open hours.

The page is plain HTML, CSS and JavaScript shipped in this package (no CDN, no
build step); it talks to `/graphql` like any other front end. `open-hours` gives
a level calendar's open intervals so a ticket's timeline can shade business hours,
and `calendars` each calendar's time zone so due instants are shown in it (the
GraphQL contract exposes only the calendar's name).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from slarules.errors import ServiceError
from slarules.instants import in_supported_years
from slarules.instants import parse_rfc3339 as parse_instant
from slarules.static_pages import error, page_and_assets, read_denied

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
page, asset = page_and_assets("slarules.board", ASSETS)  # the page at `/` and `/board`


async def open_hours(request: Request) -> Response:
    """`?calendar=NAME&from=T&to=T` → the calendar's open intervals in [from, to) (read role)."""
    runtime: Any = request.app.state.runtime
    q = request.query_params
    if (refused := read_denied(request)) is not None:
        return refused
    try:
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
        return error(e.code, e.message)

    def intervals() -> list[list[str]]:
        return [
            [s.isoformat().replace("+00:00", "Z"), e.isoformat().replace("+00:00", "Z")]
            for s, e in calendar.open_intervals(start, end)
        ]

    return JSONResponse({"calendar": name, "intervals": await run_in_threadpool(intervals)})


async def calendars(request: Request) -> Response:
    """Each calendar's IANA time zone and the ruleset's own (read role)."""
    runtime: Any = request.app.state.runtime
    if (refused := read_denied(request)) is not None:
        return refused
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
