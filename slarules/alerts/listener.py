"""PostgreSQL LISTEN/NOTIFY: every server process hears every alert and reload of the others.

The outbox transaction that raises an alert also runs `pg_notify` with the
alert's id (never its document: NOTIFY payloads are limited to 8,000 bytes);
a thread per process holds one dedicated connection listening on the
channels and hands each payload text to its callback (alerts: read the row
and publish it to this process's `slaAlerts` subscribers; reloads: load the
rules again). It reconnects after a lost connection.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

from slarules.settings import DatabaseConfig
from slarules.store.alerts import NOTIFY_CHANNEL, RELOAD_CHANNEL

log = logging.getLogger("slarules.alerts")


class AlertListener:
    def __init__(
        self,
        config: DatabaseConfig,
        on_alert: Callable[[str], None],
        on_reload: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.handlers = {NOTIFY_CHANNEL: on_alert}
        if on_reload is not None:
            self.handlers[RELOAD_CHANNEL] = on_reload
        self._stop = threading.Event()
        self._waker, self._wakee = socket.socketpair()  # interrupts select() on stop
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slarules-listen", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._waker.send(b"x")
        self._thread.join(timeout=5)
        self._waker.close()
        self._wakee.close()

    @property
    def listening(self) -> bool:
        return self._ready.is_set() and self._thread.is_alive()

    def _connect(self) -> Any:
        import psycopg2
        import psycopg2.extensions

        kw = self.config.pony_kwargs()
        kw.pop("provider")
        if "database" in kw:
            kw["dbname"] = kw.pop("database")
        conn = psycopg2.connect(connect_timeout=5, **kw)
        conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
        with conn.cursor() as cur:
            for channel in self.handlers:
                cur.execute(f'LISTEN "{channel}"')
        return conn

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except Exception as e:
                self._ready.clear()
                log.warning("alert listener cannot connect: %s", e)
                self._stop.wait(2.0)
                continue
            self._ready.set()
            try:
                while not self._stop.is_set():
                    ready, _, _ = select.select([conn, self._wakee], [], [], 5.0)
                    if not ready or self._stop.is_set():
                        continue
                    conn.poll()
                    while conn.notifies:
                        n = conn.notifies.pop(0)
                        try:
                            self.handlers[n.channel](n.payload)
                        except Exception:
                            log.exception("listener callback failed (%s)", n.channel)
            except Exception as e:
                self._ready.clear()
                log.warning("alert listener lost its connection: %s", e)
            finally:
                with contextlib.suppress(Exception):
                    conn.close()
