"""The board's countdowns and the per-agent view on the server's own fields (issue 12):
`Cycle.counting` / `Cycle.countingChangesAt` computed by the engine (no simulated fetch), and
`assignees(from, to, filter)` crediting each cycle to the assignee at its stop.

A ruleset of its own: level `weekly_hour` on a calendar open one hour a week, on the weekday two
days ago (so it is closed now and for days); level `allday` 24x7. Only the page's clock is
moved (`Date.now`). Screenshots go to `test-artifacts/` (not in git).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.board.live import (
    EVENTS,
    RECORD,
    LiveServer,
    browser_missing,
    chromium,
    iso,
    live_server,
)
from tests.board.test_browser import js, loaded, rows, shot, wait_for

MISSING = browser_missing()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=f"no headless browser: {MISSING}"),
    pytest.mark.slow,
]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOUR_MS = 3600_000

RULES = """\
timezone "UTC"
schema {{
  priorities low < medium < high < critical
}}
calendar weekly {{
  timezone "UTC"
  hours {day} 10:00-11:00
}}
level weekly_hour {{
  title "One hour a week"
  calendar weekly
  resolution 70m
  warn at 50%
}}
level allday {{
  title "Around the clock"
  resolution 2h
}}
default level allday
rule "Closed calendar" {{
  when tags contains "closed"
  set level weekly_hour
  stop
}}
"""

SHIFT_CLOCK = """
const realNow = Date.now.bind(Date);
window.__shift = 0;
Date.now = () => realNow() + window.__shift;
"""

MEASURE = """
const [steps, ids] = arguments;
const out = [];
for (const shift of steps) {
  window.__shift = shift;
  window.slaBoard.tick();
  const row = {};
  for (const id of ids) {
    const tr = document.querySelector(`#cycles tr[data-ticket="${id}"]`);
    const td = tr.querySelector('.remaining');
    row[id] = [td.textContent, tr.dataset.tone, td.dataset.counting];
  }
  out.push(row);
}
window.__shift = 0;
window.slaBoard.tick();
return out;
"""


def ticket(srv: LiveServer, id: str, created: datetime, assignee: str, tags: list[str]) -> None:
    fields = {"status": "new", "tags": tags, "assignee": assignee, "subject": f"ticket {id}"}
    srv.gql(RECORD, {"t": {"id": id, "createdAt": iso(created), "fields": fields}})


@pytest.fixture(scope="module")
def opened() -> datetime:
    """The calendar's weekly hour: 10:00-11:00 UTC two days ago."""
    day = (datetime.now(UTC) - timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    return day


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory, opened: datetime) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("counting")
    rules = folder / "rules"
    rules.mkdir()
    (rules / "rules.sla").write_text(RULES.format(day=DAYS[opened.weekday()]))
    with live_server(folder / "store.db", rules=Path(rules)) as s:
        now = datetime.now(UTC).replace(microsecond=0)
        # C-1: counted its one open hour (10 of 70 min left); closed now for about five days
        ticket(s, "C-1", opened, "ana", ["closed"])
        # 24x7, 90 min left, counting
        ticket(s, "A-1", now - timedelta(minutes=30), "bruno", [])
        # M-1: solved by carla, then handed to dora: the met cycle stays carla's
        ticket(s, "M-1", now - timedelta(minutes=40), "carla", [])
        s.gql(
            EVENTS,
            {
                "e": [
                    {
                        "eventId": "M-1-s",
                        "ticketId": "M-1",
                        "at": iso(now - timedelta(minutes=20)),
                        "status": "solved",
                    },
                    {
                        "eventId": "M-1-u",
                        "ticketId": "M-1",
                        "at": iso(now - timedelta(minutes=10)),
                        "update": {"set": {"assignee": "dora"}},
                    },
                ]
            },
        )
        yield s


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as d:
        yield d


def open_board(driver: Any, url: str) -> None:
    driver.get(url)
    wait_for(
        driver,
        lambda d: loaded(d, "list-panel") and loaded(d, "assignees-panel"),
        "the list and the assignees",
    )


def test_a_closed_calendar_keeps_its_remaining_time_and_is_never_breached(
    srv: LiveServer, driver: Any, opened: datetime
) -> None:
    script = driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": SHIFT_CLOCK}
    )
    try:
        driver.get("about:blank")
        open_board(driver, f"{srv.url}/board")
        js(driver, "window.slaBoard.refreshEvery = Infinity;")
        # the server's schema has the fields: nothing is simulated
        assert "counting" in js(driver, "return document.body.dataset.features || ''").split()
        start = {r["id"]: r for r in rows(driver)}
        assert start["C-1"]["remaining"] == "10m 00s left (clock stopped)", start["C-1"]
        assert start["C-1"]["label"] == "At risk"  # its 50 % warning, as the server says
        title = driver.find_element(
            "css selector", '#cycles tr[data-ticket="C-1"] .remaining'
        ).get_attribute("title")
        reopens = opened + timedelta(days=7)
        assert "starts again" in title and f"{reopens.day}" in title, title

        # 2 h, 12 h and 3 days later by the page's clock: C-1 does not move, A-1 counts down
        steps = [10 * 60_000, 2 * HOUR_MS, 12 * HOUR_MS, 72 * HOUR_MS]
        got = js(driver, MEASURE, steps, ["C-1", "A-1"])
        for later in got:
            assert later["C-1"] == ["10m 00s left (clock stopped)", "warned", "false"], later
            assert later["A-1"][1] != "breached"  # a breach is the server's to say
        a1 = re.match(r"^1h (\d+)m left$", got[0]["A-1"][0])
        assert a1 and 19 <= int(a1.group(1)) <= 20, got[0]  # 90 min less 10
        assert got[0]["A-1"][2] == "true"
        assert got[1]["A-1"][0] == "due now"
        shot(driver, "counting-closed-calendar")
    finally:
        driver.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]}
        )
        driver.get("about:blank")


def test_the_agent_view_credits_each_cycle_at_its_stop(srv: LiveServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    open_board(driver, f"{srv.url}/board")
    table = js(
        driver,
        """return Object.fromEntries([...document.querySelectorAll('#assignees tbody tr')]
             .map(tr => [tr.dataset.assignee,
                         [...tr.querySelectorAll('td')].map(td => td.textContent)]))""",
    )
    # columns: open, at risk, breached (open), met, missed, service level
    assert table["ana"] == ["1", "1", "0", "0", "0", "—"], table
    assert table["bruno"] == ["1", "0", "0", "0", "0", "—"], table
    assert table["carla"][:5] == ["0", "0", "0", "1", "0"], table  # M-1's resolution
    assert table["carla"][5] == "100.0 %"
    assert "dora" not in table, table  # today's assignee of M-1 gets no credit
    note = driver.find_element(By.ID, "assignees-note").text
    assert "credited to the assignee when the cycle stopped" in note
    panel = driver.find_element(By.ID, "assignees-panel")
    driver.execute_script("arguments[0].scrollIntoView()", panel)
    shot(driver, "counting-assignees")

    # clicking a name filters the board by that assignee
    driver.find_element(By.CSS_SELECTOR, '#assignees tr[data-assignee="bruno"] button').click()
    wait_for(
        driver,
        lambda d: [r["id"] for r in rows(d)] == ["A-1"],
        "the list filtered to bruno",
    )
