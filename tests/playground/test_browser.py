"""The playground in a real headless chromium against a live server (the bundled examples'
ruleset): a typo shows its diagnostic at the right line, fixing it shows the level again, a
changed target changes the due time, and the copied fixture passes `slarules test`.
Skipped with a reason when chromium, chromedriver or selenium is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.board.live import ARTIFACTS, LiveServer, browser_missing, chromium, live_server

MISSING = browser_missing()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=f"no headless browser: {MISSING}"),
    pytest.mark.slow,
]
WAIT = 20.0


def wait_for(driver: Any, check: Callable[[Any], Any], what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(check)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / f"playground-failed-{what.replace(' ', '-')}.png"))
        logs = [e["message"] for e in driver.get_log("browser")]
        raise AssertionError(f"timed out waiting for {what}; browser log: {logs}") from None


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def set_rules(driver: Any, text: str) -> None:
    js(
        driver,
        """const ta = document.getElementById('rules'); ta.value = arguments[0];
           ta.dispatchEvent(new Event('input', {bubbles: true}));""",
        text,
    )


def state(driver: Any) -> dict[str, Any]:
    return js(  # type: ignore[no-any-return]
        driver,
        """const q = (s) => document.querySelector(s);
        return {answer: q('#answer').dataset.state, diags: q('#diagnostics').dataset.state,
          level: q('#level').textContent, decided: q('#decided-by').textContent,
          items: [...document.querySelectorAll('#diagnostics li[data-code]')].map(li => ({
            code: li.dataset.code, line: li.dataset.line, text: li.textContent})),
          marks: [...document.querySelectorAll('#rules-backdrop mark')].map(m => ({
            code: m.dataset.code, line: m.dataset.line, text: m.textContent})),
          due: Object.fromEntries([...document.querySelectorAll('#cycles tbody tr')].map(
            tr => [tr.dataset.metric, tr.dataset.due]))}""",
    )


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("playground") / "store.db") as s:
        yield s


def test_playground_live(srv: LiveServer, tmp_path: Path) -> None:
    from slarules.dsl import build_source
    from slarules.fixtures.runner import run_fixture

    with chromium() as d:
        d.get(f"{srv.url}/playground")
        wait_for(d, lambda d: state(d)["answer"] == "ok", "the first answer")
        first = state(d)
        assert (first["level"], first["decided"], first["items"]) == ("standard", "default", [])
        rows = js(d, "return document.querySelectorAll('#rules-trace tbody tr').length")
        assert rows == 4  # every rule of the live ruleset, each with its verdict
        live = js(d, "return document.getElementById('rules').value")

        typo = live.replace("set level vip", "set level vpi")
        line = str(typo[: typo.index("set level vpi")].count("\n") + 1)
        set_rules(d, typo)
        wait_for(d, lambda d: state(d)["diags"] == "errors", "the typo's diagnostic")
        s = state(d)
        vip = str(live[: live.index("level vip")].count("\n") + 1)
        got = sorted((i["code"], i["line"]) for i in s["items"])
        assert got == [("unknown-level", line), ("unused-level", vip)]  # the error and its echo
        assert "did you mean `vip`?" in s["items"][1]["text"]
        assert {"code": "unknown-level", "line": line, "text": "vpi"} in s["marks"]
        assert s["answer"] == "blocked"

        set_rules(d, live)
        wait_for(d, lambda d: state(d)["answer"] == "ok" and state(d)["diags"] == "ok", "fixed")
        s = state(d)
        assert s["level"] == "standard" and s["marks"] == []
        assert s["due"]["RESOLUTION"] == "2026-03-09T13:00:00Z"  # 40h on business hours

        faster = live.replace("resolution 40h", "resolution 30h")
        assert faster != live
        set_rules(d, faster)
        wait_for(
            d, lambda d: state(d)["due"].get("RESOLUTION") == "2026-03-05T20:00:00Z", "new due"
        )

        d.find_element("id", "copy-fixture").click()
        wait_for(
            d,
            lambda d: js(d, "return document.getElementById('fixture-out').dataset.ready"),
            "fixture",
        )
        fixture = js(d, "return document.getElementById('fixture-out').value")
        assert 'level = "standard"' in fixture and "due_at = 2026-03-05T20:00:00Z" in fixture
        d.save_screenshot(str(tmp_path / "playground.png"))

    path = tmp_path / "copied.toml"
    path.write_text(fixture, encoding="utf-8")
    policy = build_source(faster, "<rules>").policy
    assert policy is not None
    outcome = run_fixture(policy, path)
    assert outcome.passed, outcome
