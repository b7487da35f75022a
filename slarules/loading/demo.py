"""`serve --demo`: the bundled fixture tickets, moved in time so that they are current.

Each fixture is shifted by (server now − its own `now`): the ticket is as old,
relative to the server's clock, as it was at the instant its fixture was
written for, so the board shows tickets on track, at risk, breached, paused
and closed. Ticket ids are the fixtures' own: a ticket already in the
database is left as it is (with its events), so starting again records
nothing twice; delete the demo database for a fresh board.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from slarules.clock import Clock, SystemClock
from slarules.loading.loader import Loader, Summary
from slarules.loading.sources import Item, LoadError, find_files, fixture_items
from slarules.settings import Settings, default_rules_path


def demo_fixtures() -> Path:
    return default_rules_path() / "fixtures"


def demo_items(now: datetime, folder: Path | None = None) -> Iterator[Item | LoadError]:
    """The fixtures' tickets and events, shifted to `now`; error fixtures left out."""
    for path in find_files([folder or demo_fixtures()]):
        try:
            text = path.read_text("utf-8")
            doc = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        expect = doc.get("expect")
        if isinstance(expect, dict) and "error" in expect:
            continue  # a fixture of bad input
        fixture_now = doc.get("now")
        if isinstance(fixture_now, str):
            fixture_now = datetime.fromisoformat(fixture_now)
        if not isinstance(fixture_now, datetime) or fixture_now.utcoffset() is None:
            continue
        yield from fixture_items(path, now - fixture_now, doc)


def record_demo(settings: Settings, clock: Clock | None = None) -> Summary:
    """Record the demo tickets into `settings.database` (through the app's intake)."""
    from slarules.loading.inprocess import database_sink

    clock = clock or SystemClock()
    sink = database_sink(settings, clock)
    try:
        loader = Loader(sink, skip_events_of_present=True)
        return loader.run(demo_items(clock.now()))
    finally:
        sink.close()
