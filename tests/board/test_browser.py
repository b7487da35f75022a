"""The SLA board end to end in a real headless chromium against a live server.

The server runs the bundled examples' ruleset with the real engine and the system clock; the
seeded tickets (tests/board/live.py) are placed relative to "now". Expected figures come from
the `tickets` query, independently of the SLA-log queries the page uses. Screenshots go to
`test-artifacts/`. Skipped with a reason when chromium, chromedriver or selenium is missing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slarules.engine.alerts import Alert
from tests.board.live import (
    ARTIFACTS,
    RECORD,
    LiveServer,
    all_tickets,
    browser_missing,
    chromium,
    clone_tickets,
    iso,
    live_server,
    seed,
)

MISSING = browser_missing()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=f"no headless browser: {MISSING}"),
    pytest.mark.slow,
]
WAIT = 20.0


def wait_for(driver: Any, check: Callable[[Any], Any], what: str, timeout: float = WAIT) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check)
    except Exception:
        shot(driver, f"failed-{what.replace(' ', '-')}")
        logs = [e["message"] for e in driver.get_log("browser")]
        raise AssertionError(f"timed out waiting for {what}; browser log: {logs}") from None


def shot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"board-{name}.png"))


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def loaded(driver: Any, panel: str) -> str | None:
    return js(driver, f"return document.querySelector('#{panel}').dataset.loaded || null")  # type: ignore[no-any-return]


def reload_board(driver: Any, url: str) -> None:
    driver.get(url)
    wait_for(
        driver, lambda d: loaded(d, "list-panel") and loaded(d, "counts-panel"), "first render"
    )


def rows(driver: Any) -> list[dict[str, str]]:
    return js(  # type: ignore[no-any-return]
        driver,
        """return [...document.querySelectorAll('#cycles tbody tr')].map(tr => ({
            id: tr.dataset.ticket, due: tr.dataset.due, tone: tr.dataset.tone,
            state: tr.dataset.state, label: tr.querySelector('.badge').textContent,
            remaining: tr.querySelector('.remaining').textContent}))""",
    )


def counts(driver: Any) -> dict[str, str]:
    return {
        k: driver.find_element("id", f"count-{k}").text
        for k in ("active", "paused", "breached", "met-today")
    }


def expected_counts(tickets: list[dict[str, Any]], now: datetime, **where: str) -> dict[str, str]:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)  # the browser runs in UTC
    n = {"active": 0, "paused": 0, "breached": 0, "met-today": 0}
    for t in tickets:
        if any(t["fields"].get(k) != v for k, v in where.items()):
            continue
        for c in t["cycles"]:
            if c["state"] == "MET":
                stopped = datetime.fromisoformat(c["stoppedAt"])
                n["met-today"] += stopped >= midnight
            else:
                n[c["state"].lower()] += 1
    return {k: str(v) for k, v in n.items()}


def open_ids(tickets: list[dict[str, Any]], **where: str) -> set[str]:
    return {
        t["id"]
        for t in tickets
        if all(t["fields"].get(k) == v for k, v in where.items())
        and any(c["stoppedAt"] is None for c in t["cycles"])
    }


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("board") / "store.db") as s:
        seed(s, datetime.now(UTC).replace(microsecond=0))
        yield s


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as d:
        yield d


def test_counts_sorted_list_and_time_to_first_render(srv: LiveServer, driver: Any) -> None:
    reload_board(driver, f"{srv.url}/board")
    now = datetime.now(UTC)
    tickets = all_tickets(srv)
    assert counts(driver) == expected_counts(tickets, now)

    got = rows(driver)
    assert {r["id"] for r in got} == open_ids(tickets)
    assert "S-1" not in {r["id"] for r in got}  # no SLA: no open cycle
    dues = [r["due"] for r in got if r["due"]]
    assert dues == sorted(dues, key=datetime.fromisoformat), got
    assert all(r["due"] for r in got[: len(dues)]), "paused cycles (no due) come last"
    by_id = {r["id"]: r for r in got}
    assert by_id["B-1"]["tone"] == "breached" and by_id["B-1"]["label"] == "Breached"
    assert by_id["B-1"]["remaining"].startswith("overdue ")
    assert by_id["W-1"]["tone"] == "warned" and by_id["W-1"]["label"] == "At risk"
    assert by_id["F-1"]["tone"] == "fine" and by_id["F-1"]["label"] == "On track"
    assert by_id["P-1"]["tone"] == "paused" and by_id["P-1"]["label"] == "Paused"

    # the server says F-1's business clock runs (24x7 level, Cycle.counting): it counts down
    # (a closed calendar's does not: test_board_counting.py)
    before = by_id["F-1"]["remaining"]
    time.sleep(2.2)
    js(driver, "window.slaBoard.tick()")
    assert {r["id"]: r for r in rows(driver)}["F-1"]["remaining"] != before
    cell = "document.querySelector('#cycles tr[data-ticket=\"F-1\"] .remaining').dataset.counting"
    assert js(driver, f"return {cell}") == "true"

    ms = int(js(driver, "return Number(document.body.dataset.firstRenderMs)"))
    print(f"\nboard: time to first render with {len(tickets)} tickets: {ms} ms")
    assert 0 < ms < 10_000
    shot(driver, "main")


def test_filters_narrow_the_list_counts_and_exports(srv: LiveServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    reload_board(driver, f"{srv.url}/board")
    tickets = all_tickets(srv)
    before = loaded(driver, "list-panel")
    driver.find_element(By.ID, "f-department").send_keys("billing")
    driver.find_element(By.ID, "apply-filters").click()
    wait_for(driver, lambda d: loaded(d, "list-panel") != before, "the filtered list")
    assert {r["id"] for r in rows(driver)} == open_ids(tickets, department="billing")
    assert open_ids(tickets, department="billing") < open_ids(tickets)
    wait_for(
        driver,
        lambda d: counts(d) == expected_counts(tickets, datetime.now(UTC), department="billing"),
        "the filtered counts",
    )
    href = driver.find_element(By.ID, "export-log").get_attribute("href")
    assert href.endswith("/export/sla-log.csv?department=billing"), href
    assert "department=billing" in driver.current_url  # the filters survive a reload

    before = loaded(driver, "list-panel")
    Select(driver.find_element(By.ID, "f-level")).select_by_value("standard")
    driver.find_element(By.ID, "f-department").clear()
    driver.find_element(By.ID, "apply-filters").click()
    wait_for(driver, lambda d: loaded(d, "list-panel") != before, "the level-filtered list")
    assert {r["id"] for r in rows(driver)} == {"STD-1"}
    shot(driver, "filtered")

    before = loaded(driver, "list-panel")
    Select(driver.find_element(By.ID, "f-level")).select_by_value("")
    Select(driver.find_element(By.ID, "f-metric")).select_by_value("RESOLUTION")
    driver.find_element(By.ID, "apply-filters").click()
    wait_for(driver, lambda d: loaded(d, "list-panel") != before, "the metric-filtered list")
    assert {r["state"] for r in rows(driver)} <= {"ACTIVE", "PAUSED"}  # no breached resolution
    assert {
        js(driver, "return arguments[0].dataset.metric", tr)
        for tr in driver.find_elements(By.CSS_SELECTOR, "#cycles tbody tr")
    } == {"RESOLUTION"}
    href = driver.find_element(By.ID, "export-log").get_attribute("href")
    assert href.endswith("/export/sla-log.csv?metric=resolution"), href


def test_timeline_of_a_ticket_shows_its_breach_mark(srv: LiveServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    reload_board(driver, f"{srv.url}/board")
    button = driver.find_element(By.CSS_SELECTOR, 'button.ticket-link[data-ticket="B-1"]')
    button.send_keys(Keys.ARROW_DOWN)  # arrow keys move through the list
    nxt = rows(driver)[1]["id"]
    assert driver.switch_to.active_element.get_attribute("data-ticket") == nxt
    driver.switch_to.active_element.send_keys(Keys.ARROW_UP)
    assert driver.switch_to.active_element.get_attribute("data-ticket") == "B-1"
    button.send_keys(Keys.ENTER)  # keyboard, not only the mouse
    wait_for(driver, lambda d: loaded(d, "timeline-panel"), "the timeline")
    panel = driver.find_element(By.ID, "timeline-panel")
    assert panel.get_attribute("data-ticket") == "B-1"
    marks = driver.find_elements(
        By.CSS_SELECTOR, '#timeline-body .mark[data-cycle="FIRST_RESPONSE-1"]'
    )
    kinds = [m.get_attribute("data-kind") for m in marks]
    assert kinds[0] == "started" and "breached" in kinds, kinds
    assert not driver.find_elements(
        By.CSS_SELECTOR, '#timeline-body .mark[data-cycle="RESOLUTION-1"][data-kind="breached"]'
    )
    body = driver.find_element(By.ID, "timeline-body").text
    assert "breached" in body and "Tagged URGENT" in body  # marks and level decisions as text
    assert driver.find_elements(By.CSS_SELECTOR, "#timeline-body rect.open-hours")
    shot(driver, "timeline")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for(
        driver,
        lambda d: not d.find_element(By.ID, "timeline-panel").is_displayed(),
        "the timeline to close",
    )
    assert driver.switch_to.active_element.get_attribute("data-ticket") == "B-1"


def test_compliance_chart_has_met_and_breached_bars(srv: LiveServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    reload_board(driver, f"{srv.url}/board")
    wait_for(driver, lambda d: loaded(d, "compliance-panel"), "the compliance chart")
    today = datetime.now(UTC).date().isoformat()
    assert driver.find_elements(By.CSS_SELECTOR, f'#compliance-chart g.bar[data-group="{today}"]')
    # M-OLD's two met cycles started more than two days ago; B-1/B-2 breached in the last 3h
    assert (
        len(driver.find_elements(By.CSS_SELECTOR, "#compliance-chart g.bar:has(rect.bar-met)")) >= 2
    )
    assert driver.find_elements(By.CSS_SELECTOR, "#compliance-chart rect.bar-breached")
    assert driver.find_elements(By.CSS_SELECTOR, "#compliance-chart circle.sl-dot")
    href = driver.find_element(By.ID, "export-compliance").get_attribute("href")
    assert "/export/compliance.csv?from=" in href and "group_by=day" in href


def live_board(srv: LiveServer, driver: Any) -> None:
    """Load the board and wait until its alert subscription is registered on the server:
    publish probe alerts until one shows up (the protocol has no subscribe acknowledgement)."""
    from selenium.webdriver.common.by import By

    reload_board(driver, f"{srv.url}/board")
    wait_for(
        driver,
        lambda d: d.find_element(By.ID, "live-status").get_attribute("data-state") == "on",
        "the live connection",
    )
    probes = iter(range(1000))

    def probed(d: Any) -> bool:
        if d.find_elements(By.CSS_SELECTOR, '#alerts li[data-ticket="PROBE"]'):
            return True
        now = datetime.now(UTC)
        probe = Alert(f"probe-{next(probes)}", "warning", "PROBE", "resolution", 1, now, now, "x")
        srv.call_soon(srv.runtime.broadcaster.publish, probe)
        return False

    wait_for(driver, probed, "a probe alert")
    js(driver, "window.__sameDocument = 'yes'")


def test_an_alert_through_the_subscription_updates_the_page(srv: LiveServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    live_board(srv, driver)
    assert {r["id"]: r for r in rows(driver)}["F-2"]["tone"] == "fine"
    now = datetime.now(UTC)
    alert = Alert(
        "a-test-1",
        "breach",
        "F-2",
        "first_response",
        1,
        now,
        now,
        "urgent",
        assignee="ana",
        department="tech",
    )
    srv.call_soon(srv.runtime.broadcaster.publish, alert)
    wait_for(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, '#alerts li[data-alert-id="a-test-1"]'),
        "the alert in the feed",
    )
    wait_for(
        driver,
        lambda d: {r["id"]: r for r in rows(d)}["F-2"]["tone"] == "breached",
        "the row to turn breached",
    )
    assert "Breached: F-2" in driver.find_element(By.ID, "alerts").text  # words, not only colour
    assert js(driver, "return window.__sameDocument") == "yes"  # no reload
    shot(driver, "alert")


def test_an_alert_from_the_scheduler_reaches_the_board(srv: LiveServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    if getattr(srv.runtime, "scheduler", None) is None:
        pytest.skip("the alert scheduler (issue 6, helper C) is not running in the app yet")
    live_board(srv, driver)
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=61)
    srv.gql(
        RECORD,
        {
            "t": {
                "id": "LATE-1",
                "createdAt": iso(created),
                "fields": {
                    "status": "new",
                    "source": "email",
                    "tags": ["urgent"],
                    "department": "tech",
                    "assignee": "bruno",
                },
            }
        },
    )
    wait_for(
        driver,
        lambda d: d.find_elements(
            By.CSS_SELECTOR, '#alerts li[data-ticket="LATE-1"][data-kind="BREACH"]'
        ),
        "the scheduler's breach alert in the feed",
    )
    wait_for(driver, lambda d: "LATE-1" in {r["id"] for r in rows(d)}, "the new ticket's row")
    assert js(driver, "return window.__sameDocument") == "yes"


def test_a_failing_panel_does_not_break_the_others(srv: LiveServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    reload_board(driver, f"{srv.url}/board")
    wait_for(driver, lambda d: loaded(d, "compliance-panel"), "the compliance chart")
    # the server fails the compliance query (a masked internal error) and the counts (HTTP 500)
    js(
        driver,
        """
      const real = window.fetch;
      window.fetch = (url, init) => {
        const body = (init && init.body) || "";
        if (body.includes("compliance(")) return Promise.resolve(new Response(JSON.stringify(
          {data: null, errors: [
            {message: "internal error", extensions: {code: "INTERNAL_SERVER_ERROR"}}]}),
          {status: 200, headers: {"Content-Type": "application/json"}}));
        if (body.includes("active: slaLog"))
          return Promise.resolve(new Response("boom", {status: 500}));
        return real(url, init);
      };
      window.slaBoard.refresh();""",
    )
    status = driver.find_element(By.CSS_SELECTOR, "#compliance-panel .panel-status")
    wait_for(driver, lambda d: "internal error" in status.text, "the compliance error")
    assert "error" in status.get_attribute("class")
    counts_status = driver.find_element(By.CSS_SELECTOR, "#counts-panel .panel-status")
    wait_for(driver, lambda d: "HTTP 500" in counts_status.text, "the counts error")
    assert driver.find_element(By.ID, "count-active").text == "?"
    assert driver.find_element(By.ID, "count-met-today").text.isdigit()  # its own query worked
    list_status = driver.find_element(By.CSS_SELECTOR, "#list-panel .panel-status")
    wait_for(driver, lambda d: list_status.text != "Loading…", "the list")
    assert rows(driver) and "error" not in (list_status.get_attribute("class") or "")
    assert driver.find_element(By.ID, "auth-message").is_displayed() is False
    shot(driver, "panel-error")


def test_missing_or_expired_token_shows_a_message(tmp_path: Path, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    with live_server(tmp_path / "store.db", tokens={"reader-token": "read"}) as s:
        driver.get(f"{s.url}/")
        banner = driver.find_element(By.ID, "auth-message")
        wait_for(driver, lambda d: banner.is_displayed(), "the missing-token message")
        assert "needs an API token" in banner.text
        assert driver.find_element(By.ID, "list-title").is_displayed()  # not a blank page
        # the banner may come from another panel's query: wait for the list's own answer
        list_status = driver.find_element(By.CSS_SELECTOR, "#list-panel .panel-status")
        wait_for(driver, lambda d: "not authorised" in list_status.text, "the list's message")
        wait_for(
            driver,
            lambda d: "refused" in d.find_element(By.ID, "live-status").text,
            "the refused subscription",
        )
        shot(driver, "no-token")

        field = driver.find_element(By.ID, "token-input")
        field.send_keys("expired-token")
        driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
        wait_for(
            driver,
            lambda d: banner.is_displayed() and "refused the token" in banner.text,
            "the refused-token message",
        )

        field.clear()
        field.send_keys("reader-token")
        before = loaded(driver, "list-panel")
        driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
        wait_for(driver, lambda d: loaded(d, "list-panel") != before, "the board with a token")
        assert not banner.is_displayed()
        wait_for(
            driver,
            lambda d: d.find_element(By.ID, "live-status").get_attribute("data-state") == "on",
            "the live connection with a token",
        )
        # the token is remembered across a reload
        reload_board(driver, f"{s.url}/board")
        assert not driver.find_element(By.ID, "auth-message").is_displayed()

        # an export link cannot carry the token: the page fetches it with the header
        js(
            driver,
            """window.__blobs = []; const make = URL.createObjectURL;
            URL.createObjectURL = (b) => { window.__blobs.push(b); return make(b); };""",
        )
        driver.find_element(By.ID, "export-log").click()
        wait_for(driver, lambda d: js(d, "return window.__blobs.length") == 1, "the export")
        csv = driver.execute_async_script(
            "const done = arguments[arguments.length - 1]; window.__blobs[0].text().then(done);"
        )
        assert csv.startswith("ticket_id,"), csv[:200]
        assert not driver.find_element(By.ID, "filters-status").text
        js(driver, "localStorage.clear()")


def test_first_paint_with_10000_open_tickets_loads_one_page(tmp_path: Path, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    with live_server(tmp_path / "store.db") as s:
        created = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        s.gql(
            RECORD,
            {
                "t": {
                    "id": "TPL",
                    "createdAt": iso(created),
                    "fields": {
                        "status": "new",
                        "source": "email",
                        "tags": ["urgent"],
                        "department": "tech",
                    },
                }
            },
        )
        clone_tickets(s.db_file, "TPL", 10_000)
        assert s.gql("{ tickets(first: 0) { totalCount } }")["tickets"]["totalCount"] == 10_001

        start = time.perf_counter()
        reload_board(driver, f"{s.url}/board")
        wall_ms = (time.perf_counter() - start) * 1000
        first_ms = int(js(driver, "return Number(document.body.dataset.firstRenderMs)"))
        got = rows(driver)
        assert len(got) == 50  # one page, not 10,000
        assert "10001 tickets match" in driver.find_element(By.ID, "list-summary").text
        assert driver.find_element(By.ID, "load-more").is_displayed()
        requests = js(
            driver,
            "return performance.getEntriesByType('resource')"
            ".filter(e => e.name.endsWith('/graphql')).length",
        )
        timings = {
            "tickets": 10_001,
            "first_render_ms": first_ms,
            "wall_ms_to_list": round(wall_ms),
            "graphql_requests": requests,
        }
        print(f"\nboard with 10,001 open tickets: {json.dumps(timings)}")
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "board-timings.json").write_text(json.dumps(timings, indent=2) + "\n")
        shot(driver, "10k")
        assert first_ms < 15_000

        driver.find_element(By.ID, "load-more").click()
        wait_for(driver, lambda d: len(rows(d)) == 100, "the second page")
