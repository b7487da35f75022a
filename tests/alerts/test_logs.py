"""Log lines: failed webhook deliveries at warning level, timestamps with their offset."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from slarules.alerts.scheduler import log_delivery
from slarules.alerts.webhook import DeliveryResult
from slarules.logs import JsonLines, timestamp
from slarules.store.alerts import ClaimedAlert


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def alert_records() -> Iterator[list[logging.LogRecord]]:
    logger = logging.getLogger("slarules.alerts")
    keep = _Keep()
    old_level = logger.level
    logger.addHandler(keep)
    logger.setLevel(logging.DEBUG)
    try:
        yield keep.records
    finally:
        logger.removeHandler(keep)
        logger.setLevel(old_level)


ALERT = ClaimedAlert("a-1", datetime(2026, 3, 2, 12, tzinfo=UTC), 2, '{"ticketId": "T-1"}')


@pytest.mark.parametrize(
    ("result", "level"),
    [
        (DeliveryResult(False, 500, "HTTP 500"), logging.WARNING),
        (DeliveryResult(False, None, "timed out"), logging.WARNING),
        (DeliveryResult(True, 204), logging.INFO),
    ],
)
def test_delivery_log_level(
    alert_records: list[logging.LogRecord], result: DeliveryResult, level: int
) -> None:
    log_delivery(ALERT, json.loads(ALERT.payload), result, 0.01)
    (record,) = alert_records
    assert record.levelno == level
    line = json.loads(JsonLines().format(record))
    assert line["level"] == logging.getLevelName(level).lower()
    assert line["ok"] is result.ok and line["attempt"] == 2


def test_log_timestamps_carry_their_offset() -> None:
    record = logging.LogRecord("slarules.app", logging.INFO, __file__, 1, "hello", None, None)
    record.created = 1_772_452_800.25  # 2026-03-02T12:00:00.25Z
    line = json.loads(JsonLines().format(record))
    ts = datetime.fromisoformat(line["ts"])
    assert ts.utcoffset() is not None
    assert ts == datetime(2026, 3, 2, 12, 0, 0, 250_000, tzinfo=UTC)
    assert line["message"] == "hello"


def test_timestamp_in_another_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/Sao_Paulo")
    time.tzset()
    try:
        assert timestamp(1_772_452_800) == "2026-03-02T09:00:00.000-03:00"
    finally:
        monkeypatch.undo()
        time.tzset()
