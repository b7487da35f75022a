"""Per-request context: the caller's role, the request instant, the live policy, DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from slarules.auth import check_role
from slarules.engine.policy import Policy
from slarules.service.views import TicketView
from slarules.settings import Role

if TYPE_CHECKING:
    from slarules.runtime import Runtime


@dataclass
class Context:
    runtime: Runtime
    now: datetime
    policy: Policy
    role: Role | None
    request: Any = None
    response: Any = None
    connection_params: Any = None
    _tickets: DataLoader[str, TicketView | None] | None = field(default=None, init=False)

    @property
    def tickets(self) -> DataLoader[str, TicketView | None]:
        """The request's ticket loader, made when a resolver first asks for it."""
        if self._tickets is None:
            self._tickets = DataLoader(load_fn=self._load_tickets)
        return self._tickets

    async def _load_tickets(self, ids: list[str]) -> list[TicketView | None]:
        service = self.runtime.require_service()
        views = await run_in_threadpool(service.views, self.policy, ids, self.now)
        return [views.get(i) for i in ids]

    def require(self, needed: Role) -> None:
        check_role(self.role, needed)


def ctx(info: strawberry.Info) -> Context:
    c = info.context
    assert isinstance(c, Context)
    return c
