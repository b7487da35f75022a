"""Per-request context: the caller's role, the request instant, the live policy, DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from slarules.engine.policy import Policy
from slarules.settings import ROLES, Role
from slarules.store.records import FORBIDDEN, UNAUTHENTICATED, ServiceError, TicketView

if TYPE_CHECKING:
    from slarules.runtime import Runtime


def role_for(runtime: Runtime, authorization: str | None) -> Role | None:
    """The role of a bearer token; everyone is admin when no tokens are configured."""
    tokens = runtime.settings.tokens
    if not tokens:
        return "admin"
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return tokens.get(token.strip())


def check_role(role: Role | None, needed: Role) -> None:
    if role is None:
        raise ServiceError(
            UNAUTHENTICATED, "missing or unknown bearer token (send `Authorization: Bearer TOKEN`)"
        )
    if ROLES.index(role) < ROLES.index(needed):
        raise ServiceError(
            FORBIDDEN, f"forbidden: this needs the `{needed}` role (the token has `{role}`)"
        )


@dataclass
class Context:
    runtime: Runtime
    now: datetime
    policy: Policy
    role: Role | None
    request: Any = None
    response: Any = None
    connection_params: Any = None
    tickets: DataLoader[str, TicketView | None] = field(init=False)

    def __post_init__(self) -> None:
        self.tickets = DataLoader(load_fn=self._load_tickets)

    async def _load_tickets(self, ids: list[str]) -> list[TicketView | None]:
        store = self.runtime.require_store()
        views = await run_in_threadpool(store.tickets.load_views, self.policy, ids, self.now)
        return [views.get(i) for i in ids]

    def require(self, needed: Role) -> None:
        check_role(self.role, needed)


def ctx(info: strawberry.Info) -> Context:
    c = info.context
    assert isinstance(c, Context)
    return c
