"""The playground's routes: the page, its assets, the live ruleset's text and a fixture reader.

`/playground/ruleset` gives the live ruleset's files as one text (the files of a directory
behave as concatenated, so the page edits them as one). `/playground/ticket` turns a fixture
(TOML or JSON, the `slarules test` format) into the variables of the GraphQL `explain` query;
TOML has no parser in the browser. Both need the `read` role, like every query.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from slarules.static_pages import error, page_and_assets, read_denied

ASSETS: dict[str, str] = {
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}
MAX_TICKET_BYTES = 256 * 1024
_TICKET_KEYS = ("id", "created_at", "created_by")
page, asset = page_and_assets("slarules.playground", ASSETS)


async def live_ruleset(request: Request) -> Response:
    """The live ruleset's files as one text, each file after a `# file: NAME` comment."""
    if (refused := read_denied(request)) is not None:
        return refused
    sources: dict[str, str] = request.app.state.runtime.ruleset.sources
    parts = [
        f"# file: {name.rsplit('/', 1)[-1]}\n{text.rstrip()}\n" for name, text in sources.items()
    ]
    return PlainTextResponse("\n".join(parts), headers={"Cache-Control": "no-cache"})


def _json_value(v: Any) -> Any:
    if isinstance(v, datetime):
        if v.tzinfo is None:
            raise ValueError(f"`{v.isoformat()}` has no offset (write e.g. `Z` or `-03:00`)")
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    return v


def _event(e: Any, i: int) -> dict[str, Any]:
    if not isinstance(e, dict) or "at" not in e:
        raise ValueError(f"events[{i}]: an event is a table with `at` and `type`")
    kind = e.get("type")
    out: dict[str, Any] = {"at": e["at"]}
    if kind == "message":
        msg = {"by": str(e.get("by", "customer")).upper(), "public": e.get("public", True)}
        msg.update({k: e[k] for k in ("text", "channel") if k in e})
        out["message"] = msg
    elif kind == "status":
        out["status"] = e.get("status")
    elif kind == "update":
        out["update"] = {"set": e.get("set") or {}, "unset": e.get("unset") or []}
    else:
        raise ValueError(f"events[{i}].type: `{kind}` is not message, status or update")
    return out


def explain_variables(doc: dict[str, Any]) -> dict[str, Any]:
    """A fixture document → `{ticket, events, now}` for the `explain` query."""
    doc = _json_value(doc)
    ticket = doc.get("ticket")
    if not isinstance(ticket, dict) or "id" not in ticket or "created_at" not in ticket:
        raise ValueError("`ticket`: a table with at least `id` and `created_at`")
    fields = {k: v for k, v in ticket.items() if k not in _TICKET_KEYS}
    out = {
        "ticket": {
            "id": str(ticket["id"]),
            "createdAt": ticket["created_at"],
            "createdBy": str(ticket.get("created_by", "customer")).upper(),
            "fields": fields,
        },
        "events": [_event(e, i) for i, e in enumerate(doc.get("events") or [])],
        "now": doc.get("now"),
    }
    return out


async def ticket(request: Request) -> Response:
    """POST a fixture (TOML, or JSON when it starts with `{`) → the `explain` variables."""
    if (refused := read_denied(request)) is not None:
        return refused
    body = await request.body()
    if len(body) > MAX_TICKET_BYTES:
        return error("BAD_USER_INPUT", f"the ticket is over {MAX_TICKET_BYTES // 1024} KiB")
    text = body.decode("utf-8", "replace")
    try:
        doc = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
        return JSONResponse(explain_variables(doc))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, ValueError) as e:
        return error("BAD_USER_INPUT", f"ticket: {e}")


def routes() -> list[BaseRoute]:
    """Mount with `Starlette(routes=[..., *routes()])`."""
    return [
        Route("/playground", page, methods=["GET", "HEAD"]),
        Route("/playground/ruleset", live_ruleset, methods=["GET"]),
        Route("/playground/ticket", ticket, methods=["POST"]),
        Route("/playground/{name}", asset, methods=["GET", "HEAD"]),
    ]
