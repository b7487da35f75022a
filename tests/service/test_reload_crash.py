"""Issue 11 item 5: a ruleset the compiler cannot build answers `ok: false` with
diagnostics (GraphQL and SIGHUP's reload), and the old ruleset stays live."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.alerts.conftest import EXAMPLES, engine_api
from tests.alerts.receiver import wait_until

RELOAD = (
    "mutation { reloadRules { ok ruleset { version files } "
    "diagnostics { severity code file message } } }"
)

DEEP_NOT = 'rule "deep" {\n  when ' + "not " * 199 + 'tags contains "x"\n  set level urgent\n}\n'
DEEP_PARENS = (
    'rule "deep" {\n  when '
    + "(" * 488
    + 'tags contains "x"'
    + ")" * 488
    + "\n  set level urgent\n}\n"
)


def _rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLES, rules)
    return rules


@pytest.mark.parametrize("text", [DEEP_NOT, DEEP_PARENS], ids=["199-not", "488-parens"])
def test_reload_of_a_ruleset_that_cannot_be_built_keeps_the_old_one(
    tmp_path: Path, text: str
) -> None:
    rules = _rules(tmp_path)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        old = api.data("{ ruleset { version } }")["ruleset"]["version"]
        (rules / "30-deep.sla").write_text(text)
        got = api.data(RELOAD)["reloadRules"]  # was INTERNAL_SERVER_ERROR
        assert got["ok"] is False
        assert got["ruleset"]["version"] == old
        assert got["diagnostics"] and got["diagnostics"][0]["severity"] == "error"
        assert "Traceback" not in str(got)
        # SIGHUP calls the same `reload` in a worker thread: no exception escapes either
        ok, diags = api.runtime.reload()
        assert ok is False and diags
        assert api.data("{ ruleset { version } }")["ruleset"]["version"] == old


def test_a_compiler_crash_of_any_kind_is_a_build_failed_diagnostic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import slarules.dsl

    rules = _rules(tmp_path)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        old = api.runtime.ruleset.policy.version
        for crash in (RecursionError, MemoryError, SyntaxError, ValueError):

            def build(*args: object, _e: type[Exception] = crash) -> None:
                raise _e("boom /srv/secret/path")

            monkeypatch.setattr(slarules.dsl, "build", build)
            got = api.data(RELOAD)["reloadRules"]
            assert got["ok"] is False, crash
            (d,) = got["diagnostics"]
            assert d["code"] == "build-failed" and crash.__name__ in d["message"]
            assert "/srv/secret" not in d["message"]  # no exception text, no paths
            assert api.runtime.ruleset.policy.version == old


def test_check_rules_of_a_crashing_source_answers_diagnostics(tmp_path: Path) -> None:
    with engine_api(tmp_path / "a.db") as api:
        body = api.post(
            "query($s: String!) { checkRules(source: $s) { severity code } }",
            {"s": DEEP_PARENS},
        )
        assert "errors" not in body, body
        assert body["data"]["checkRules"] and body["data"]["checkRules"][0]["severity"] == "error"


def test_ruleset_files_are_relative_to_the_ruleset_root(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    with engine_api(tmp_path / "a.db", rules=rules) as api:
        files = api.data("{ ruleset { files } }")["ruleset"]["files"]
        assert files == ["00-setup.sla", "10-levels.sla", "20-rules.sla"]
        (rules / "10-levels.sla").write_text("level oops {")
        got = api.data(RELOAD)["reloadRules"]
        assert got["ok"] is False
        assert all(str(tmp_path) not in (d["file"] or "") for d in got["diagnostics"])
        assert got["diagnostics"][0]["file"] == "10-levels.sla"


def test_healthz_shows_no_exception_text_without_a_token(tmp_path: Path) -> None:
    tokens = {"rtok": "read"}
    with engine_api(tmp_path / "a.db", tokens=tokens) as api:
        wait_until(lambda: api.runtime.scheduler.passes > 0)
        api.runtime.scheduler.last_error = "OperationalError: /srv/data/x.db is locked"
        anon = api.client.get("/healthz")
        assert anon.status_code == 503 and "/srv/data" not in anon.text  # was: the text
        assert anon.json()["scheduler"].startswith("failing")
        trusted = api.client.get("/healthz", headers={"Authorization": "Bearer rtok"})
        assert "/srv/data/x.db is locked" in trusted.json()["scheduler"]
