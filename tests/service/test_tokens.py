"""Bearer tokens from a file (SLA_TOKENS_FILE), constant-time lookups, never logged
(issue 11 item 11)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from slarules.errors import SettingsError
from slarules.settings import DatabaseConfig, Settings, TokenTable, load_settings
from tests.service.conftest import open_api

SECRET = "s3cr3t-w7Yq2"
OTHER = "other-Zp91x"


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    f = tmp_path / "tokens"
    f.write_text(text, encoding="utf-8")
    f.chmod(mode)
    return f


def test_tokens_from_a_file(tmp_path: Path) -> None:
    f = _file(tmp_path, f"# tokens of the help desk\n{SECRET}:admin\n{OTHER}:read, third:write\n")
    s = load_settings({"SLA_TOKENS_FILE": str(f)}, cwd=tmp_path)
    assert dict(s.tokens) == {SECRET: "admin", OTHER: "read", "third": "write"}
    s = load_settings({}, tokens_file="tokens", cwd=tmp_path)  # relative to cwd, as an option
    assert s.tokens.get(OTHER) == "read"
    assert load_settings({"SLA_TOKENS_FILE": str(f)}, host="0.0.0.0").host == "0.0.0.0"


@pytest.mark.parametrize(
    ("mode", "needle"),
    [(0o604, "readable or writable by other users"), (0o602, "by other users"), (0o000, "")],
)
def test_unsafe_or_unreadable_files_are_refused(tmp_path: Path, mode: int, needle: str) -> None:
    f = _file(tmp_path, f"{SECRET}:admin\n", mode)
    if mode == 0 and os.geteuid() == 0:
        pytest.skip("root reads a file of mode 000")
    with pytest.raises(SettingsError) as e:
        load_settings({"SLA_TOKENS_FILE": str(f)})
    assert (needle or "cannot be read") in str(e.value)
    assert SECRET not in str(e.value)


def test_a_missing_file_both_sources_and_bad_entries(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings({"SLA_TOKENS_FILE": str(tmp_path / "nope")})
    f = _file(tmp_path, f"{SECRET}:admin\n")
    with pytest.raises(SettingsError, match="not both"):
        load_settings({"SLA_TOKENS_FILE": str(f), "SLA_TOKENS": "a:read"})
    for text in (f"{SECRET}\n", f"{SECRET}:root\n", "# only a comment\n"):
        _file(tmp_path, text)
        with pytest.raises(SettingsError) as e:
            load_settings({"SLA_TOKENS_FILE": str(f)})
        assert SECRET not in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(SettingsError) as e:
        load_settings({"SLA_TOKENS": SECRET})  # no role: the entry is not echoed
    assert SECRET not in str(e.value)


def test_token_table_lookups_and_repr() -> None:
    table = TokenTable({SECRET: "admin", OTHER: "read"})
    assert table.get(SECRET) == "admin" and table[OTHER] == "read"
    assert table.get("forged") is None and table.get(SECRET[:-1]) is None
    assert table.get("\udcff") is None  # a lone surrogate does not crash the lookup
    assert table == {SECRET: "admin", OTHER: "read"}
    s = Settings(tokens={SECRET: "admin"})
    assert isinstance(s.tokens, TokenTable)
    assert SECRET not in repr(s) and SECRET not in str(s.tokens)


def test_a_request_with_a_token_does_not_write_it_to_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    db = DatabaseConfig("sqlite", filename=str(tmp_path / "t.db"))
    caplog.set_level(logging.DEBUG)
    for name in ("slarules.access", "slarules.app", "slarules.graphql", "slarules.alerts"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    with open_api(db, tokens={SECRET: "admin"}) as api:
        assert api.data("{ ruleset { version } }", token=SECRET)
        assert api.error("{ ruleset { version } }", token=OTHER)  # forged
        api.client.get(f"/healthz?token={OTHER}", headers={"Authorization": f"Bearer {SECRET}"})
        api.client.get("/metrics", headers={"Authorization": f"Bearer {OTHER}"})
        api.client.get("/board/open-hours", headers={"Authorization": f"Bearer {OTHER}"})
    records = [r for r in caplog.records if r.name.startswith("slarules")]
    assert any(r.name == "slarules.access" for r in records)  # the requests were logged
    # (the test client's own `httpx` logger prints the URL it sent; it is not the server)
    logged = "".join(r.getMessage() + str(r.__dict__) for r in records)
    out, err = capfd.readouterr()
    for text in (logged, out, err):
        assert SECRET not in text and OTHER not in text
