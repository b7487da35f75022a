"""The strawberry ASGI view: context per request (role, instant, live policy, loaders).

`GET /graphql` from a browser (or curl) never answers a bare 404: with `SLA_GRAPHIQL`
on it is GraphiQL, whose files ship in `static/` (vendored from npm, see
`static/VENDORED.md`) and are served by `graphiql_asset`, so it works offline; with it
off, a short page says how to query. The WebSocket handshake accepts the same origin
and the `SLA_CORS_ORIGINS` ones (browsers apply no CORS to WebSockets).
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from slarules.auth import role_for
from slarules.graphql.context import Context
from slarules.graphql.schema import make_schema

if TYPE_CHECKING:
    from slarules.runtime import Runtime


ASSET_PATH = "/graphiql"  # GraphiQL's files: /graphiql/{name}
GRAPHIQL_ASSETS: dict[str, str] = {
    "graphiql.min.js": "text/javascript; charset=utf-8",
    "graphiql.min.css": "text/css; charset=utf-8",
    "react.production.min.js": "text/javascript; charset=utf-8",
    "react-dom.production.min.js": "text/javascript; charset=utf-8",
    "graphiql-start.js": "text/javascript; charset=utf-8",
}
# GraphiQL styles its panes inline and embeds its fonts and icons as data: URLs.
GRAPHIQL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HELP_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"

GRAPHIQL_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphiQL · slarules</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{ASSET_PATH}/graphiql.min.css">
<style>body{{margin:0}} #graphiql{{height:100vh}}</style></head>
<body><div id="graphiql">Loading GraphiQL…</div>
<script src="{ASSET_PATH}/react.production.min.js"></script>
<script src="{ASSET_PATH}/react-dom.production.min.js"></script>
<script src="{ASSET_PATH}/graphiql.min.js"></script>
<script src="{ASSET_PATH}/graphiql-start.js"></script>
</body></html>
"""

HELP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>slarules GraphQL API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;
line-height:1.45}} pre{{background:#f3f4f6;padding:.75rem;overflow-x:auto}}
code{{font-size:.95em}}</style></head>
<body><h1>slarules GraphQL API</h1>
<p>This is the GraphQL endpoint. Send queries and mutations as <code>POST {url}</code> with a
JSON body <code>{{"query": "…", "variables": {{…}}}}</code>{auth}:</p>
<pre>curl -s {url} -H 'Content-Type: application/json'{auth_curl} \
  -d '{{"query": "{{ ruleset {{ version levels {{ name }} }} }}"}}'</pre>
<p>Subscriptions (<code>slaAlerts</code>) use the <code>graphql-transport-ws</code> protocol on
<code>{ws}</code>. The schema is in <code>docs/service.md</code>.</p>
<p>The interactive GraphiQL editor is off. Start the server with
<code>SLA_GRAPHIQL=true</code> to serve it here (it works without internet access).
The SLA board is at <a href="/board">/board</a>.</p>
</body></html>
"""


def _no_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"`{text[:40]}` is out of range")
    return value


def help_page(request: Request, auth: bool) -> str:
    url = str(request.url.replace(query="", fragment=""))
    ws = "ws" + url[4:] if url.startswith("http") else url
    return HELP_PAGE.format(
        url=html.escape(url),
        ws=html.escape(ws),
        auth=" and an <code>Authorization: Bearer TOKEN</code> header" if auth else "",
        auth_curl=" -H 'Authorization: Bearer TOKEN'" if auth else "",
    )


async def graphiql_asset(request: Request) -> Response:
    """One vendored GraphiQL file (only the listed ones), cached for a day."""
    name = request.path_params["name"]
    media_type = GRAPHIQL_ASSETS.get(name)
    if media_type is None:
        return JSONResponse({"error": f"no asset `{name}`", "code": "NOT_FOUND"}, status_code=404)
    body = resources.files("slarules.graphql").joinpath("static", name).read_bytes()
    return Response(body, media_type=media_type, headers={"Cache-Control": "max-age=86400"})


class SlaGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(
            make_schema(runtime.settings),
            # always truthy: `render_graphql_ide` answers GraphiQL or the help page
            graphql_ide="graphiql",
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            allowed_origins=list(runtime.settings.cors_origins),
        )
        self.runtime = runtime

    def encode_json(self, data: object) -> str:
        """The answer's JSON text: orjson's (about 10x faster than `json.dumps` on a list
        page of 20-60 KB; the same text, non-ASCII as UTF-8 rather than escaped). Text, not
        bytes: a WebSocket sends it as a text frame. What orjson refuses (an integer
        beyond 64 bits, a lone surrogate) goes to `json.dumps`, as strawberry's would."""
        try:
            return orjson.dumps(data).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError
            return json.dumps(data, separators=(",", ":"))

    def parse_json(self, data: str | bytes) -> Any:
        """The body as a JSON object, or 400: invalid UTF-8, not an object, NaN/Infinity,
        integers of more than 4,300 digits, nesting deeper than the parser allows, NUL or
        lone surrogates in any text (neither can be stored)."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
            # From valid UTF-8, a NUL or a lone surrogate can only come from a `\u` escape
            # (json.loads refuses raw control characters in strings): without one, no scan.
            escaped = not isinstance(data, bytes) or b"\\u" in data
            shown = (
                json.dumps(value, ensure_ascii=False) if escaped and isinstance(value, dict) else ""
            )
            shown.encode("utf-8")
        except UnicodeError:
            msg = "the body is not valid UTF-8 (or holds a lone surrogate)"
            raise HTTPException(400, msg) from None
        except RecursionError:
            raise HTTPException(400, "the JSON body nests too deeply") from None
        except ValueError as e:
            raise HTTPException(400, f"the body is not valid JSON: {str(e)[:120]}") from None
        if not isinstance(value, dict):
            raise HTTPException(400, 'the body must be a JSON object: {"query": "…"}')
        if "\x00" in shown:
            raise HTTPException(400, "the body holds a NUL character (\\u0000)")
        return value

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """`GET /graphql` without `?query=`, from a browser or curl (Accept text/html or */*)."""
        if self.runtime.settings.graphiql:
            return HTMLResponse(GRAPHIQL_PAGE, headers={"Content-Security-Policy": GRAPHIQL_CSP})
        page = help_page(request, self.runtime.settings.auth_enabled)
        return HTMLResponse(page, headers={"Content-Security-Policy": HELP_CSP})

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        rt = self.runtime
        auth = request.headers.get("authorization")  # WebSocket: connection_init wins
        return Context(
            runtime=rt,
            now=rt.clock.now(),
            policy=rt.ruleset.policy,
            role=role_for(rt.settings, auth),
            request=request,
            response=response,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params
        auth: Any = params.get("authorization") if isinstance(params, dict) else None
        if isinstance(auth, str):
            context.role = role_for(self.runtime.settings, auth)
        if context.role is None:
            raise ConnectionRejectionError(
                {"code": "UNAUTHENTICATED", "message": "missing or unknown bearer token"}
            )
        unset: UnsetType = UNSET
        return unset
