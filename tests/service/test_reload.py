"""Reloading rules: broken files keep the old ruleset under load; valid ones swap, re-measure."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from pathlib import Path

from tests.alerts.conftest import EXAMPLES, engine_api, urgent
from tests.alerts.receiver import wait_until
from tests.alerts.servers import free_port, gql, server
from tests.service.conftest import Api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET

RELOAD = (
    "mutation { reloadRules { ok ruleset { version remeasuring } diagnostics { code file line } } }"
)
LOG = "{ slaLog(first: 500) { edges { node { ticketId metric state rulesetVersion } } } }"


def _rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLES, rules)
    return rules


def _hammer(api: Api, stop: threading.Event, failures: list[str], count: list[int]) -> None:
    queries = [
        '{ ticket(id: "T-01") { id level { name } cycles { state } } }',
        "{ tickets(first: 20) { totalCount } ruleset { version levels { name } } }",
    ]
    while not stop.is_set():
        for q in queries:
            r = api.client.post("/graphql", json={"query": q})
            if r.status_code != 200 or "errors" in r.json():
                failures.append(r.text)
            count[0] += 1


def test_broken_rules_keep_the_old_ruleset_and_valid_ones_swap_under_load(
    tmp_path: Path,
) -> None:
    rules = _rules(tmp_path)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        for i in range(40):
            api.data(RECORD_TICKET, urgent(f"T-{i:02}"))
        api.data(
            RECORD_EVENTS,
            {
                "events": [
                    {
                        "eventId": "done",
                        "ticketId": "T-00",
                        "at": "2026-03-02T12:00:00Z",
                        "status": "solved",
                    }
                ]
            },
        )
        old = api.data("{ ruleset { version } }")["ruleset"]["version"]
        stop, failures, count = threading.Event(), [], [0]
        workers = [
            threading.Thread(target=_hammer, args=(api, stop, failures, count)) for _ in range(3)
        ]
        for w in workers:
            w.start()
        try:
            levels = rules / "10-levels.sla"
            good = levels.read_text()
            levels.write_text(good.replace("first_response 1h", "first_response 1h oops"))
            got = api.data(RELOAD)["reloadRules"]
            assert got["ok"] is False and got["ruleset"]["version"] == old
            assert got["diagnostics"] and got["diagnostics"][0]["file"].endswith("10-levels.sla")

            levels.write_text(good.replace("first_response 1h", "first_response 2h"))
            got = api.data(RELOAD)["reloadRules"]
            new = got["ruleset"]["version"]
            assert got["ok"] is True and new != old and got["diagnostics"] == []
            assert got["ruleset"]["remeasuring"] in range(1, 40)  # T-00 is done
            wait_until(
                lambda: api.data("{ ruleset { remeasuring } }")["ruleset"]["remeasuring"] == 0
            )
            time.sleep(0.2)
        finally:
            stop.set()
            for w in workers:
                w.join()
        assert failures == [] and count[0] > 10
        assert list(api.runtime.store.ruleset_versions()) == [old, new]
        rows = [e["node"] for e in api.data(LOG)["slaLog"]["edges"]]
        versions = {(r["ticketId"] == "T-00", r["rulesetVersion"]) for r in rows}
        assert versions == {(True, old), (False, new)}  # done tickets keep their history
        fr = api.data('{ ticket(id: "T-01") { cycles(metric: FIRST_RESPONSE) { targetSeconds } } }')
        assert fr["ticket"]["cycles"][0]["targetSeconds"] == 7200
        metrics = api.client.get("/metrics").text
        assert f'slarules_ruleset_info{{version="{new}"}} 1.0' in metrics
        assert "slarules_tickets_remeasured_total 39.0" in metrics


def test_sighup_reloads_a_running_server(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    env = {"SLA_RULES": str(rules), "SLA_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    port = free_port()
    with server(port, env, tmp_path) as proc:
        old = gql(port, "{ ruleset { version } }")["ruleset"]["version"]
        levels = rules / "10-levels.sla"
        good = levels.read_text()
        levels.write_text(good + "\nlevel {\n")  # broken: the old ruleset stays
        proc.send_signal(signal.SIGHUP)
        log = tmp_path / f"server-{port}.log"
        wait_until(lambda: '"event":"ruleset.reload_failed"' in log.read_text())
        assert gql(port, "{ ruleset { version } }")["ruleset"]["version"] == old
        assert proc.poll() is None
        levels.write_text(good.replace("resolution 8h", "resolution 9h"))
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: gql(port, "{ ruleset { version } }")["ruleset"]["version"] != old)
