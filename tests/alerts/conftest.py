"""Apps on the real engine and the bundled rules, with a frozen clock and a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from slarules.app import create_app
from slarules.clock import FrozenClock
from slarules.settings import Settings, default_rules_path, parse_database_url
from tests.service.conftest import Api, pg_available, pg_database

__all__ = ["pg_available", "pg_database"]  # PostgreSQL fixtures shared with tests/service

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, 09:00 in Sao Paulo
EXAMPLES = default_rules_path()


@contextmanager
def engine_api(db_file: Path, *, clock: FrozenClock | None = None, **kw: Any) -> Iterator[Api]:
    """The app on the real engine (bundled rules unless `rules=`), scheduler running."""
    kw.setdefault("rules", EXAMPLES)
    settings = replace(Settings(database=parse_database_url(f"sqlite:///{db_file}")), **kw)
    clock = clock or FrozenClock(T0)
    app = create_app(settings, clock)
    with TestClient(app) as client:
        yield Api(client, clock, app)


def move_clock(api: Api, at: datetime) -> None:
    """Set the frozen clock and poke the scheduler (as a timer firing would)."""
    api.clock.set(at)
    api.runtime.wake_scheduler()


def urgent(id: str, at: str = "2026-03-02T12:00:00Z", **fields: Any) -> dict[str, Any]:
    return {
        "input": {
            "id": id,
            "createdAt": at,
            "fields": {
                "status": "new",
                "source": "email",
                "priority": "high",
                "tags": ["urgent"],
                **fields,
            },
        }
    }
