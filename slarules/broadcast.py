"""In-process fan-out of alerts to `slaAlerts` subscribers (the runtime feeds it).

Each subscriber gets a bounded queue; a slow one drops its oldest alerts
rather than holding up delivery to the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from slarules.engine.alerts import Alert


class Broadcaster:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: set[asyncio.Queue[Alert | None]] = set()
        self._size = queue_size

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, alert: Alert) -> None:
        """Hand an alert to every subscriber (call on the event loop)."""
        for q in list(self._queues):
            if q.full():
                q.get_nowait()
            q.put_nowait(alert)

    def close(self) -> None:
        """End every subscription (shutdown)."""
        for q in list(self._queues):
            if q.full():
                q.get_nowait()
            q.put_nowait(None)

    async def subscribe(self) -> AsyncIterator[Alert]:
        q: asyncio.Queue[Alert | None] = asyncio.Queue(self._size)
        self._queues.add(q)
        try:
            while True:
                item = await q.get()
                if item is None:
                    return
                yield item
        finally:
            self._queues.discard(q)
