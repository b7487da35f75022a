"""Settings: environment + options, defaults, one-line errors; the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from slarules.clock import FrozenClock, SystemClock
from slarules.errors import SettingsError
from slarules.settings import default_rules_path, load_settings, parse_database_url, parse_tokens


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({}, cwd=tmp_path)
    assert (s.host, s.port, s.tokens, s.graphiql) == ("127.0.0.1", 8000, {}, False)
    assert s.database.provider == "sqlite"
    assert s.database.filename == str(tmp_path / "slarules.db")
    assert s.rules == default_rules_path() and (s.rules / "20-rules.sla").is_file()


def test_options_override_environment(tmp_path: Path) -> None:
    env = {
        "SLA_PORT": "9000",
        "SLA_HOST": "::1",
        "SLA_DATABASE_URL": "sqlite:///env.db",
        "SLA_TOKENS": "a:read",
        "SLA_WEBHOOK_URL": "https://hooks.example/x",
        "SLA_WEBHOOK_SECRET": "s3",
        "SLA_GRAPHIQL": "1",
    }
    s = load_settings(
        env, port=9100, db="sqlite:////abs/opt.db", tokens="b:admin, c:write", cwd=tmp_path
    )
    assert s.port == 9100 and s.host == "::1"
    assert s.database.filename == "/abs/opt.db"
    assert s.tokens == {"b": "admin", "c": "write"}
    assert (s.webhook_url, s.webhook_secret, s.graphiql) == ("https://hooks.example/x", "s3", True)


def test_postgres_url() -> None:
    c = parse_database_url("postgresql://bob:p%40ss@db.local:5433/sla")
    assert (c.provider, c.host, c.port, c.user, c.password, c.database) == (
        "postgres",
        "db.local",
        5433,
        "bob",
        "p@ss",
        "sla",
    )
    assert c.display == "postgresql://bob@db.local:5433/sla"  # no password in logs
    assert c.pony_kwargs()["options"] == "-c timezone=UTC -c max_parallel_workers_per_gather=0"


@pytest.mark.parametrize(
    ("kw", "env", "needle"),
    [
        ({"port": "http"}, {}, "SLA_PORT `http` is not a port number"),
        ({}, {"SLA_PORT": "70000"}, "not a port number"),
        ({"db": "mysql://x/y"}, {}, "unknown scheme `mysql`"),
        ({"db": "postgresql:///nodb"}, {}, "needs a host and a database"),
        ({"tokens": "nocolon"}, {}, "is not `token:role`"),
        ({"tokens": "t:root"}, {}, "unknown role `root`"),
        ({"tokens": "t:read,t:write"}, {}, "listed twice"),
        ({"host": "0.0.0.0"}, {}, "is not loopback: set SLA_TOKENS"),
        ({"rules": "/no/such/rules"}, {}, "SLA_RULES `/no/such/rules` does not exist"),
        ({"webhook_url": "ftp://x"}, {}, "not an http(s) URL"),
        ({}, {"SLA_GRAPHIQL": "maybe"}, "not a flag"),
        ({"workers": "2"}, {}, "SQLite serves one process only"),
        ({"workers": "zero"}, {}, "SLA_WORKERS `zero` is not a number of processes"),
        ({}, {"SLA_WEBHOOK_TIMEOUT": "-1"}, "SLA_WEBHOOK_TIMEOUT `-1` is not a number of seconds"),
        ({}, {"SLA_ALERT_LEASE": "soon"}, "SLA_ALERT_LEASE `soon` is not a number of seconds"),
    ],
)
def test_bad_settings_are_one_line(kw: dict[str, str], env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError) as e:
        load_settings(env, **kw)  # type: ignore[arg-type]
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_several_workers_need_postgresql() -> None:
    s = load_settings({"SLA_WORKERS": "3"}, db="postgresql://postgres@127.0.0.1:5432/test")
    assert s.workers == 3
    assert load_settings({}).workers == 1


def test_alert_settings_from_the_environment() -> None:
    s = load_settings(
        {
            "SLA_WEBHOOK_TIMEOUT": "2.5",
            "SLA_ALERT_LEASE": "10",
            "SLA_ALERT_MAX_AGE": "600",
            "SLA_WEBHOOK_SECRET": "k",
            "SLA_SCHEDULER": "0",
        }
    )
    assert s.scheduler is False
    assert (s.webhook_timeout, s.alert_lease, s.alert_max_age, s.webhook_secret) == (
        2.5,
        10.0,
        600.0,
        "k",
    )


def test_non_loopback_is_allowed_with_tokens() -> None:
    s = load_settings({}, host="0.0.0.0", tokens="t:read")
    assert s.host == "0.0.0.0" and s.auth_enabled


def test_parse_tokens_roles() -> None:
    assert parse_tokens("x:READ,y:admin") == {"x": "read", "y": "admin"}


def test_clocks() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC and now.microsecond == 0
    c = FrozenClock(datetime(2026, 3, 2, 9, 0, 0, 500, tzinfo=timezone(timedelta(hours=-3))))
    assert c.now() == datetime(2026, 3, 2, 12, 0, tzinfo=UTC) and c.now().tzinfo is UTC
    c.advance(minutes=5)
    assert c.now() == datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 3, 2))


def test_only_clock_read_is_in_clock_py() -> None:
    root = Path(__file__).resolve().parents[2] / "slarules"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "clock.py"
        and any(
            s in p.read_text()
            for s in ("datetime.now(", "datetime.utcnow(", "date.today(", "time.time(")
        )
    ]
    assert offenders == []
