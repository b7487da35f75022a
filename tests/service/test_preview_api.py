"""`previewRules` (admin, budgeted) and `ticket { explain(at:) }` over GraphQL."""

from __future__ import annotations

from datetime import timedelta

from slarules.dsl import build_source
from slarules.instants import rfc3339
from slarules.settings import DatabaseConfig
from tests.service.conftest import open_api
from tests.service.previewing import B_LIVE, RULES_B, policy, seed
from tests.service.rules import T0

TOKENS = {"adm": "admin", "rd": "read"}
PREVIEW = """query($s: String!, $since: DateTime!) { previewRules(source: $s, since: $since) {
  tickets changed truncated stoppedBy newVersion
  transitions { fromLevel toLevel count causes { fromRule toRule count } examples }
  flips { metric metToBreached appeared }
  compliance { level metric before { metCount serviceLevel } after { metCount serviceLevel } }
} }"""


def test_preview_rules_is_admin_only_and_budgeted(sqlite_db: DatabaseConfig) -> None:
    seed(sqlite_db, n=9).close()
    since = rfc3339(T0 - timedelta(days=1))
    with open_api(sqlite_db, tokens=TOKENS, preview_max_tickets=4) as api:
        err = api.error(PREVIEW, {"s": RULES_B, "since": since}, token="rd")
        assert err["extensions"]["code"] == "FORBIDDEN"
        got = api.data(PREVIEW, {"s": RULES_B, "since": since}, token="adm")["previewRules"]
        assert got["tickets"] == 4 and got["truncated"] and got["stoppedBy"] == "tickets"
        assert got["newVersion"] == build_source(RULES_B, "<rules>").policy.version  # type: ignore[union-attr]
        moves = {(t["fromLevel"], t["toLevel"]): t["count"] for t in got["transitions"]}
        assert moves[("urgent", "standard")] == 2  # T000, T003 among T000-T003
        bad = api.error(PREVIEW, {"s": "level {", "since": since}, token="adm")
        assert bad["extensions"]["code"] == "INVALID_RULES"


def test_ticket_explain_at_uses_the_version_live_then(sqlite_db: DatabaseConfig) -> None:
    # the app records its own live ruleset at T0: A goes live after it
    seed(sqlite_db, n=3, with_b=True, a_live=T0 + timedelta(minutes=30)).close()
    q = """query($at: DateTime!) { ticket(id: "T001") { explain(at: $at) {
      level { name } decidedBy cycles { state rulesetVersion } } } }"""
    with open_api(sqlite_db) as api:
        early = api.data(q, {"at": rfc3339(T0 + timedelta(hours=2))})["ticket"]["explain"]
        late = api.data(q, {"at": rfc3339(B_LIVE + timedelta(hours=1))})["ticket"]["explain"]
    assert early["level"]["name"] == "standard" and early["decidedBy"] == "default"
    assert late["level"]["name"] == "urgent" and late["decidedBy"] == "Tagged URGENT"
    assert {c["rulesetVersion"] for c in late["cycles"]} == {policy(RULES_B).version}
