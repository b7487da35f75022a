"""The strawberry ASGI view: context per request (role, instant, live policy, loaders)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
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


class SlaGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(
            make_schema(runtime.settings),
            graphql_ide="graphiql" if runtime.settings.graphiql else None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        )
        self.runtime = runtime

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
