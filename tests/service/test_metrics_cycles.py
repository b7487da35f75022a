"""`slarules_cycles` counts the store's cycles at scrape time only (a count reads every
cycle state's index: at a year of tickets, a second of start-up if registering did it)."""

from __future__ import annotations

from slarules.metrics import Metrics


def test_registering_the_cycle_gauge_counts_nothing() -> None:
    calls: list[int] = []

    def counts() -> dict[str, int]:
        calls.append(1)
        return {"active": 2, "breached": 1}

    m = Metrics()
    m.watch_cycles(counts)
    assert calls == []
    text = m.render().decode()
    assert calls == [1]
    assert 'slarules_cycles{state="active"} 2.0' in text
    assert 'slarules_cycles{state="met"} 0.0' in text
