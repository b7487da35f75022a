"""Impact preview on stored tickets, captures as fixtures, and explaining the past.

The two paths agree: previewing B over the store gives exactly the matrix,
flips and compliance that `slarules diff` gives over the same tickets
captured as fixtures."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from slarules.cli import main
from slarules.instants import rfc3339
from slarules.service import preview as preview_mod
from slarules.service.past import explain_stored
from slarules.service.preview import Budget, preview_store
from slarules.settings import DatabaseConfig
from slarules.store.histories import Histories
from tests.service.previewing import (
    A_LIVE,
    B_LIVE,
    NOW,
    RULES_A,
    RULES_B,
    policy,
    seed,
    write_rules,
)
from tests.service.rules import T0

SINCE = T0 - timedelta(days=1)
AGREE = ("tickets", "changed", "transitions", "flips", "compliance", "unmeasurable")


def _url(config: DatabaseConfig) -> str:
    assert config.filename is not None
    return f"sqlite:///{config.filename}"


def _json_out(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_preview_agrees_with_diff_on_captured_fixtures(
    sqlite_db: DatabaseConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sqlite_db)
    a, b = write_rules(tmp_path)
    url, now = _url(sqlite_db), rfc3339(NOW)
    code, stored = _json_out(
        capsys,
        ["diff", str(a), str(b), "--db", url, "--since", rfc3339(SINCE), "--now", now,
         "--format", "json", "-j", "1"],
    )  # fmt: skip
    assert code == 0
    ids = [f"T{i:03}" for i in range(24)]
    out = tmp_path / "captured"
    assert main(["capture", *ids, "--db", url, "--out", str(out), "--now", now]) == 0
    code, fixtures = _json_out(capsys, ["diff", str(a), str(b), str(out), "--format", "json"])
    assert code == 0
    assert {k: stored[k] for k in AGREE} == {k: fixtures[k] for k in AGREE}
    # and the change is the one B makes: urgent → standard, vip → urgent, 8h → 2h breaches
    cells = {(t["from"], t["to"]): t["count"] for t in stored["transitions"]}
    assert cells == {
        ("urgent", "standard"): 8,
        ("standard", "urgent"): 8,
        ("standard", "standard"): 8,
    }
    causes = {(t["from"], t["to"]): t["causes"] for t in stored["transitions"]}
    assert causes[("standard", "urgent")] == [
        {"from_rule": "default", "to_rule": "Tagged URGENT", "count": 8}
    ]
    flips = {f["metric"]: f for f in stored["flips"]}
    assert set(flips) == {"resolution"} and flips["resolution"]["met_to_breached"] > 0
    assert stored["tickets"] == 24 and stored["truncated"] is False


def test_parallel_workers_give_the_serial_report(sqlite_db: DatabaseConfig) -> None:
    seed(sqlite_db, n=30)
    a, b = policy(RULES_A), policy(RULES_B)
    serial = preview_store(sqlite_db, a, b, SINCE, NOW, jobs=1, batch=7).as_dict()
    forked = preview_store(sqlite_db, a, b, SINCE, NOW, jobs=2, batch=7).as_dict()
    assert serial == forked and serial["tickets"] == 30


def test_since_selects_created_or_active_tickets(database: DatabaseConfig) -> None:
    seed(database, n=12)
    a = policy(RULES_A)
    with Histories(database) as h:
        # created at T0 + i h; every fourth (T003, T007, T011) stays open
        since = T0 + timedelta(hours=8)
        picked = [t for page in h.pages_since(since, size=2) for t in page]
        assert picked == sorted(picked)
        # created since, open, or an event since: T002 solved at +3h → out; T007 open → in
        assert "T008" in picked and "T003" in picked and "T007" in picked
        assert "T000" not in picked
        assert h.count_since(since) == len(picked)
    report = preview_store(database, a, a, since, NOW, jobs=1, budget=Budget(tickets=2))
    assert report.preview.tickets == 2 and report.stopped_by == "tickets"
    assert report.as_dict()["changed"] == 0


def test_the_reader_cannot_write(sqlite_db: DatabaseConfig) -> None:
    seed(sqlite_db, n=1)
    with Histories(sqlite_db) as h, pytest.raises(sqlite3.OperationalError, match="readonly"):
        h.conn.execute('DELETE FROM "ticket"')


def test_unmeasurable_tickets_are_listed_and_exit_1(
    sqlite_db: DatabaseConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(sqlite_db, n=6)
    a, b = write_rules(tmp_path)
    real = preview_mod.measured_verdict

    def broken(p: Any, h: Any, now: Any) -> Any:
        if h.id == "T004" and any(f.endswith("b.sla") for f in p.files):
            raise ValueError("cannot measure")
        return real(p, h, now)

    monkeypatch.setattr(preview_mod, "measured_verdict", broken)
    argv = ["diff", str(a), str(b), "--db", _url(sqlite_db), "--since", rfc3339(SINCE),
            "--now", rfc3339(NOW), "-j", "1"]  # fmt: skip
    capsys.readouterr()
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "ERROR ticket T004: cannot be measured (new): cannot measure" in out
    assert out.startswith("5 tickets")


def test_diff_usage_errors(
    sqlite_db: DatabaseConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = write_rules(tmp_path)
    url = _url(sqlite_db)
    assert main(["diff", str(a), str(b), str(tmp_path), "--db", url]) == 2
    assert main(["diff", str(a), str(b)]) == 2
    assert main(["diff", str(a), str(b), "--db", url, "--since", "soon"]) == 2
    err = capsys.readouterr().err
    assert "not both" in err and "--since: `soon` is neither" in err


def test_markdown_is_a_summary_then_folded_details(
    sqlite_db: DatabaseConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sqlite_db, n=6)
    a, b = write_rules(tmp_path)
    capsys.readouterr()
    argv = ["diff", str(a), str(b), "--db", _url(sqlite_db), "--since", "30d",
            "--now", rfc3339(NOW), "--format", "markdown"]  # fmt: skip
    assert main(argv) == 0
    md = capsys.readouterr().out
    table = md.index("| tickets | changed |")
    assert table < md.index("<details><summary>Level transitions")
    assert "| 6 | " in md and "| urgent → standard | 2 |" in md


def test_captures_pass_slarules_test(
    sqlite_db: DatabaseConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sqlite_db, n=8)
    a, _b = write_rules(tmp_path)
    out = tmp_path / "fx"
    # no --rules: the version live at `now` in the store (A)
    assert main(["capture", "T003", "T005", "--db", _url(sqlite_db), "--out", str(out),
                 "--now", rfc3339(NOW)]) == 0  # fmt: skip
    doc = json.loads((out / "T003.json").read_text())
    assert doc["now"] == rfc3339(NOW) and doc["expect"]["resolution"][0]["state"] == "breached"
    assert len(doc["events"]) == 2 and doc["ticket"]["requester"] == "ann3@example.com"
    capsys.readouterr()
    assert main(["test", str(a), str(out)]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out
    assert main(["capture", "T404", "--db", _url(sqlite_db), "--out", str(out)]) == 1


RULES_REQUESTER = (
    RULES_A
    + """
rule "Big customers" {
  when requester contains "ann1"
  set level urgent
}
"""
)


def test_anonymized_capture_keeps_the_verdicts(
    sqlite_db: DatabaseConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sqlite_db, n=8)
    rules = tmp_path / "r.sla"
    rules.write_text(RULES_REQUESTER, "utf-8")
    out = tmp_path / "anon"
    url, now = _url(sqlite_db), rfc3339(NOW)
    capsys.readouterr()
    assert main(["capture", "T001", "T002", "T006", "--db", url, "--out", str(out), "--now", now,
                 "--rules", str(rules), "--anonymize"]) == 0  # fmt: skip
    said = capsys.readouterr().out
    one, two = (json.loads((out / f"T00{i}.json").read_text()) for i in (1, 2))
    # T001's requester (ann1) decides its level: kept, and said so; T002's is replaced
    assert one["ticket"]["requester"] == "ann1@example.com"
    assert "T001.json (kept as is (a pseudonym would change a verdict): requester)" in said
    assert two["ticket"]["requester"].startswith("requester-")
    assert "example.com" not in json.dumps(two)
    assert all(
        e.get("text", "").startswith("text-") for e in two["events"] if e["type"] == "message"
    )
    # the same value gives the same pseudonym everywhere (T002 and T006 are both ann2)
    six = json.loads((out / "T006.json").read_text())
    assert six["ticket"]["requester"] == two["ticket"]["requester"]
    # and the anonymized fixtures give the same level and cycles: they pass
    assert main(["test", str(rules), str(out)]) == 0
    plain = tmp_path / "plain"
    assert main(["capture", "T002", "--db", url, "--out", str(plain), "--now", now,
                 "--rules", str(rules)]) == 0  # fmt: skip
    assert json.loads((plain / "T002.json").read_text())["expect"] == two["expect"]


def test_explain_at_a_past_instant_uses_the_version_live_then(
    sqlite_db: DatabaseConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sqlite_db, n=3, with_b=True)
    a, b = policy(RULES_A), policy(RULES_B)
    before = explain_stored(sqlite_db, "T001", T0 + timedelta(hours=2))  # vip, under A
    assert before.version == a.version and before.loaded_at == A_LIVE
    assert before.measurement.level == "standard"
    assert all(c.ruleset_version == a.version for c in before.measurement.cycles)
    after = explain_stored(sqlite_db, "T001", B_LIVE + timedelta(hours=1))  # under B
    assert after.version == b.version and after.measurement.level == "urgent"
    capsys.readouterr()
    at = rfc3339(T0 + timedelta(hours=2))
    assert main(["explain", "--db", _url(sqlite_db), "T001", "--at", at]) == 0
    text = capsys.readouterr().out
    assert f"under ruleset version {a.version}" in text and "level: standard" in text
    assert main(["explain", "--db", _url(sqlite_db), "T001", "--at", rfc3339(A_LIVE)]) == 1
    assert main(["explain", "--db", _url(sqlite_db), "T999"]) == 1
    assert main(["explain", "--db", _url(sqlite_db), "--at", at]) == 2
