"""What the board and the playground pages share: a same-origin page shipped in a package,
its static assets, the JSON error shape of their routes and the `read` role check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from slarules.auth import check_role, role_for
from slarules.errors import ServiceError

Handler = Callable[[Request], Awaitable[Response]]

# Same-origin only: the pages load nothing from elsewhere, and the header says so.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404}


def error(code: str, message: str) -> JSONResponse:
    """A route's error: `{"error", "code"}` with the status its code means (else 400)."""
    return JSONResponse({"error": message, "code": code}, status_code=_STATUS.get(code, 400))


def read_denied(request: Request) -> JSONResponse | None:
    """The error response when the request lacks the `read` role; None when allowed."""
    runtime: Any = request.app.state.runtime
    try:
        check_role(role_for(runtime.settings, request.headers.get("authorization")), "read")
    except ServiceError as e:
        return error(e.code, e.message)
    return None


def page_and_assets(package: str, assets: Mapping[str, str]) -> tuple[Handler, Handler]:
    """The handlers of `package`'s `index.html` and of its `{name}` assets (media types)."""

    def read(name: str) -> bytes:
        return resources.files(package).joinpath(name).read_bytes()

    async def page(request: Request) -> Response:
        return Response(
            read("index.html"),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
        )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = assets.get(name)
        if media_type is None:
            return error("NOT_FOUND", f"no asset `{name}`")
        return Response(read(name), media_type=media_type, headers={"Cache-Control": "no-cache"})

    return page, asset
