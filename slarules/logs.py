"""Server logs: one JSON object per line on stderr (requests, alert deliveries, reloads)."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime
from typing import Any

LOGGERS = ("slarules.access", "slarules.alerts", "slarules.app", "slarules.graphql")


class JsonLines(logging.Formatter):
    """A record as one JSON object; a message that is JSON already is merged in."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        out: dict[str, Any] = {
            "ts": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        try:
            parsed = json.loads(msg) if msg.startswith("{") else None
        except ValueError:
            parsed = None
        out.update(parsed if isinstance(parsed, dict) else {"message": msg})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, separators=(",", ":"), default=str)


def timestamp(created: float) -> str:
    """RFC 3339 local time with its offset and milliseconds: `2026-03-02T09:00:00.123-03:00`."""
    return datetime.fromtimestamp(created).astimezone().isoformat(timespec="milliseconds")


def configure_json_logs() -> None:
    """Send the project's loggers to stderr as JSON lines (level from SLA_LOG_LEVEL)."""
    level = os.environ.get("SLA_LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(getattr(logging, level, logging.INFO))
        logger.propagate = False


def json_line(**fields: Any) -> str:
    """A log message as one compact JSON object (merged into the record by `JsonLines`)."""
    return json.dumps(fields, separators=(",", ":"), default=str)
