"""Several server processes starting at once on a fresh PostgreSQL database.

Each round forks 4 processes that wait on one barrier, then run the app's
start-up (migrations, the ruleset record, alerts) and shutdown, as each
`serve --workers 4` process does. Forking after the imports and the rules'
build keeps a round around a second.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from slarules.app import create_app
from slarules.runtime import LiveRuleset, build_ruleset
from slarules.settings import DatabaseConfig, Settings, default_rules_path

WORKERS = 4
ROUNDS = 10


def _worker(settings: Settings, live: LiveRuleset, barrier: Any, errors: Any) -> None:
    async def start_and_stop() -> None:
        app = create_app(settings, ruleset=live)
        barrier.wait(30)
        async with app.router.lifespan_context(app):
            pass

    try:
        asyncio.run(start_and_stop())
    except BaseException:
        errors.put(traceback.format_exc().strip().splitlines()[-1])
        raise SystemExit(1) from None


def _round(settings: Settings, live: LiveRuleset) -> list[str]:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    errors = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(settings, live, barrier, errors)) for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    out = []
    while not errors.empty():
        out.append(errors.get())
    out += [f"exit code {p.exitcode}" for p in procs if p.exitcode != 0]
    return out


@pytest.mark.slow
@pytest.mark.postgres
def test_four_workers_start_on_a_fresh_database(
    pg_database: Callable[..., DatabaseConfig],
) -> None:
    live, _ = build_ruleset(default_rules_path(), datetime.now(UTC))
    assert live is not None
    failures = []
    for n in range(ROUNDS):
        settings = replace(Settings(rules=default_rules_path()), database=pg_database())
        failures += [f"round {n + 1}: {e}" for e in _round(settings, live)]
    assert failures == []
