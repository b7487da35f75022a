"""Prometheus metrics of one app (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, float("inf"))
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _CyclesByState(Collector):
    """`slarules_cycles{state=…}` read from the store at scrape time."""

    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self._counts = counts

    def describe(self) -> Iterator[Any]:
        """The family without its samples: what the registry asks for when the collector is
        registered (without it, `register` would collect, i.e. count the store's cycles)."""
        yield self._family()

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "slarules_cycles", "Stored timer cycles by state as of now", labels=["state"]
        )

    def collect(self) -> Iterator[Any]:
        g = self._family()
        try:
            counts = self._counts()
        except Exception:  # an unreachable database must not break the scrape
            counts = {}
        for state in ("active", "paused", "met", "breached"):
            g.add_metric([state], counts.get(state, 0))
        yield g


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.events_recorded = Counter(
            "slarules_events_recorded", "Ticket events recorded (duplicates excluded)", registry=r
        )
        self.tickets_remeasured = Counter(
            "slarules_tickets_remeasured",
            "Tickets re-measured by the scheduler or after a reload",
            registry=r,
        )
        self.tickets_unmeasurable = Counter(
            "slarules_tickets_unmeasurable",
            "Re-measures skipped because a ticket could not be measured (logged; retried)",
            registry=r,
        )
        self.alerts_due = Counter("slarules_alerts_due", "Alerts raised (became due)", registry=r)
        self.alerts_delivered = Counter(
            "slarules_alerts_delivered", "Alerts delivered to the webhook (2xx)", registry=r
        )
        self.alerts_failed = Counter(
            "slarules_alerts_failed", "Failed webhook attempts (retried with backoff)", registry=r
        )
        self.alert_lag = Histogram(
            "slarules_alert_lag_seconds",
            "From an alert's due instant to its webhook delivery",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.webhook_latency = Histogram(
            "slarules_webhook_latency_seconds",
            "Duration of one webhook POST",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ruleset = Gauge(
            "slarules_ruleset_info", "The live ruleset (1 for its version)", ["version"], registry=r
        )
        self.remeasuring = Gauge(
            "slarules_remeasuring", "Tickets still to re-measure after a reload", registry=r
        )
        self.requests = Counter(
            "slarules_http_requests", "HTTP requests", ["method", "status"], registry=r
        )
        self._cycles: _CyclesByState | None = None

    def watch_cycles(self, counts: Callable[[], Mapping[str, int]]) -> None:
        if self._cycles is None:
            self._cycles = _CyclesByState(counts)
            self.registry.register(self._cycles)

    def set_ruleset(self, version: str) -> None:
        self.ruleset.clear()
        self.ruleset.labels(version=version).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
