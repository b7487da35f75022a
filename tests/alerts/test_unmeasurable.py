"""Issue 11 item 1: a ticket that cannot be measured never blocks the others' alerts; it is
logged, counted in `/metrics` (`slarules_tickets_unmeasurable_total`) and looked at again."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import slarules.service.recording as recording
from tests.alerts.conftest import T0, engine_api, move_clock, urgent
from tests.alerts.receiver import wait_until
from tests.service.gql import RECORD_TICKET


def test_one_unmeasurable_ticket_blocks_no_alert_and_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = recording.full_work
    broken = {"T-2"}

    def full_work(policy: Any, h: Any, now: Any) -> Any:
        if h.id in broken:
            raise ValueError("a ticket the engine cannot measure")
        return real(policy, h, now)

    with engine_api(tmp_path / "a.db") as api:
        for i in range(5):
            api.data(RECORD_TICKET, urgent(f"T-{i}"))
        monkeypatch.setattr(recording, "full_work", full_work)
        caplog.set_level(logging.WARNING, logger="slarules")
        move_clock(api, T0 + timedelta(minutes=30))  # every ticket's 50% warning is due
        raised = lambda: {a["ticket_id"] for a in api.runtime.store.alerts.list()}  # noqa: E731
        wait_until(lambda: raised() == {"T-0", "T-1", "T-3", "T-4"}, why=lambda: str(raised()))
        metrics = api.client.get("/metrics").text
        assert "slarules_tickets_unmeasurable_total 1.0" in metrics
        assert any("cannot measure ticket T-2" in r.getMessage() for r in caplog.records)
        broken.clear()  # fixed (a deploy, a corrected event): looked at again a minute later
        move_clock(api, T0 + timedelta(minutes=31, seconds=1))
        wait_until(lambda: "T-2" in raised(), why=lambda: str(raised()))
        assert len(api.runtime.store.alerts.list()) == 5  # one warning each, none repeated
