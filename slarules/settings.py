"""Server settings: environment variables and `serve` options → one checked `Settings`.

Options override the environment. Every problem raises `SettingsError` with
one line naming the setting, its value and what is expected.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from slarules.errors import SettingsError

Role = Literal["read", "write", "admin"]
ROLES: tuple[Role, ...] = ("read", "write", "admin")  # each includes the ones before it

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DB_FILE = "slarules.db"
DEMO_DB_FILE = "slarules-demo.db"  # `serve --demo` without a database setting


PG_OPTIONS = "-c timezone=UTC -c max_parallel_workers_per_gather=0"  # every store session


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """Where the store lives: a SQLite file (absolute path) or a PostgreSQL server."""

    provider: Literal["sqlite", "postgres"]
    filename: str | None = None  # sqlite: absolute path
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None

    @property
    def display(self) -> str:
        """The URL without the password, for start-up lines and /healthz."""
        if self.provider == "sqlite":
            return f"sqlite:///{self.filename}"
        who = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"postgresql://{who}{self.host or ''}{port}/{self.database or ''}"

    def pony_kwargs(self) -> dict[str, object]:
        if self.provider == "sqlite":
            return {"provider": "sqlite", "filename": self.filename, "create_db": True}
        # no parallel workers: the store's queries are index walks of a page or a report,
        # where starting workers costs more than it saves (docs/choices.md)
        kw: dict[str, object] = {"provider": "postgres", "options": PG_OPTIONS}
        for key in ("host", "port", "user", "password", "database"):
            value = getattr(self, key)
            if value is not None:
                kw[key] = value
        return kw


def parse_database_url(url: str, cwd: Path | None = None) -> DatabaseConfig:
    """`sqlite:///relative.db`, `sqlite:////abs/path.db` or `postgresql://user:pw@host:port/db`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        raw = unquote(url[len("sqlite://") :])
        if raw.startswith("/"):
            raw = raw[1:]  # sqlite:///x.db → x.db (relative); sqlite:////abs → /abs
        if not raw:
            raise SettingsError(f"database URL `{url}` names no file (e.g. sqlite:///slarules.db)")
        if raw in (":memory:", ":sharedmemory:"):
            return DatabaseConfig("sqlite", filename=":sharedmemory:")
        path = Path(raw)
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
        return DatabaseConfig("sqlite", filename=str(path.resolve()))
    if scheme in ("postgresql", "postgres"):
        try:
            port = parts.port
        except ValueError:
            raise SettingsError(f"database URL `{url}` has a bad port") from None
        database = unquote(parts.path.lstrip("/")) or None
        if not parts.hostname or not database:
            raise SettingsError(
                f"database URL `{url}` needs a host and a database (postgresql://user@host:5432/db)"
            )
        return DatabaseConfig(
            "postgres",
            host=parts.hostname,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            database=database,
        )
    raise SettingsError(
        f"database URL `{url}`: unknown scheme `{parts.scheme or url}` "
        "(use sqlite:///file.db or postgresql://user@host:port/db)"
    )


class TokenTable(Mapping[str, Role]):
    """Bearer tokens → roles. A lookup compares the presented token with every
    configured one in constant time (`hmac.compare_digest`, no early exit, no
    hashing of the secret); `repr` and `str` never show a token."""

    __slots__ = ("_pairs",)

    def __init__(self, tokens: Mapping[str, Role] | None = None) -> None:
        self._pairs = tuple((t.encode("utf-8"), r) for t, r in (tokens or {}).items())

    def __getitem__(self, token: str) -> Role:
        presented = token.encode("utf-8", "surrogatepass")
        found: Role | None = None
        for known, role in self._pairs:
            if hmac.compare_digest(known, presented):
                found = role
        if found is None:
            raise KeyError("unknown token")  # never the token itself
        return found

    def __iter__(self) -> Iterator[str]:
        return (t.decode("utf-8") for t, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"<{len(self._pairs)} bearer tokens>"

    __str__ = __repr__


def parse_tokens(spec: str, source: str = "SLA_TOKENS") -> dict[str, Role]:
    """`token:role,token:role` → {token: role}; a file may also put one pair per line
    and `#` comment lines."""
    out: dict[str, Role] = {}
    items = [
        i
        for line in spec.splitlines()
        if source == "SLA_TOKENS" or not line.strip().startswith("#")
        for i in line.split(",")
    ]
    for n, item in enumerate((i for i in items if i.strip()), 1):
        item = item.strip()
        if not item:
            continue
        token, sep, role = item.rpartition(":")
        token, role = token.strip(), role.strip().lower()
        if not sep or not token:
            raise SettingsError(  # the entry is not shown: it may be a secret
                f"{source}: entry {n} is not `token:role` (roles: read, write, admin)"
            )
        if role not in ROLES:
            raise SettingsError(
                f"{source}: unknown role `{role}` for a token (roles: read, write, admin)"
            )
        if token in out:
            raise SettingsError(f"{source}: a token is listed twice")
        out[token] = role
    if not out:
        raise SettingsError(f"{source} is set but lists no `token:role`")
    return out


_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origins(spec: str, name: str = "SLA_CORS_ORIGINS") -> tuple[str, ...]:
    """`https://a.example, http://localhost:5173` → origins as browsers send them, or ("*",).

    Starlette compares origins as exact strings, so each is normalised the way a browser
    writes its `Origin` header: lowercase scheme and host, no default port, no trailing slash.
    """
    out: list[str] = []
    for item in (i.strip() for i in spec.split(",")):
        if not item:
            continue
        if item == "*":
            out.append("*")
            continue
        parts = urlsplit(item)
        try:
            port = parts.port
        except ValueError:
            port = -1
        scheme = parts.scheme.lower()
        if (
            scheme not in _DEFAULT_PORTS
            or not parts.hostname
            or port == -1
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username
        ):
            raise SettingsError(
                f"{name}: `{item}` is not an origin like https://host[:port] "
                "(scheme, host and optional port, no path)"
            )
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        if port is not None and port != _DEFAULT_PORTS[scheme]:
            host = f"{host}:{port}"
        origin = f"{scheme}://{host}"
        if origin not in out:
            out.append(origin)
    if "*" in out and len(out) > 1:
        raise SettingsError(f"{name}: `*` allows every origin; list origins or `*`, not both")
    return tuple(out)


def read_tokens_file(path: str, cwd: Path | None = None) -> dict[str, Role]:
    """Tokens from SLA_TOKENS_FILE (the SLA_TOKENS format; commas or lines).

    Refused: a file that cannot be read, or that users other than the owner and
    group may read or write (mode `o+r`/`o+w`; use `chmod 600` or `640`)."""
    p = Path(path)
    if not p.is_absolute():
        p = (cwd or Path.cwd()) / p
    try:
        fd = os.open(p, os.O_RDONLY)
    except OSError as e:
        raise SettingsError(f"SLA_TOKENS_FILE `{path}` cannot be read: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SettingsError(f"SLA_TOKENS_FILE `{path}` is not a regular file")
        if info.st_mode & (stat.S_IROTH | stat.S_IWOTH):
            raise SettingsError(
                f"SLA_TOKENS_FILE `{path}` is readable or writable by other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}): run `chmod 600 {path}`"
            )
        data = f.read(1_000_001)
    if len(data) > 1_000_000:
        raise SettingsError(f"SLA_TOKENS_FILE `{path}` is larger than 1 MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"SLA_TOKENS_FILE `{path}` is not UTF-8 text") from None
    return parse_tokens(text, "SLA_TOKENS_FILE")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_rules_path() -> Path:
    """The bundled examples' ruleset, found relative to the package (any cwd)."""
    return Path(__file__).resolve().parent / "examples" / "helpdesk"


@dataclass(frozen=True, slots=True)
class Settings:
    rules: Path = field(default_factory=default_rules_path)
    database: DatabaseConfig = field(
        default_factory=lambda: parse_database_url(f"sqlite:///{DEFAULT_DB_FILE}")
    )
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    tokens: Mapping[str, Role] = field(default_factory=dict)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    graphiql: bool = False
    max_body_size: int = 1_000_000
    max_depth: int = 10
    max_tokens: int = 4000
    max_aliases: int = 15
    db_threads: int = 8  # PostgreSQL: one connection per worker thread
    workers: int = 1  # server processes (`--workers`); more than one needs PostgreSQL
    scheduler: bool = True  # run the alert scheduler in this process
    webhook_timeout: float = 5.0  # seconds per webhook POST
    alert_lease: float = 30.0  # seconds a claimed alert stays with its claimer
    alert_max_age: float = 86_400.0  # seconds: thresholds older than this raise no alert
    max_clock_skew: float = 300.0  # seconds an input instant may be ahead of the server clock
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API (off: none)
    preview_max_tickets: int = 5000  # `previewRules`: at most this many tickets per call
    preview_max_seconds: float = 10.0  # `previewRules`: stop after about this many seconds

    max_cost: int = 10_000  # GraphQL query cost (objects x list sizes; explain/checkRules 1000)
    operation_timeout: float = 10.0  # seconds for checkRules, explain, reloadRules, compliance
    expensive_threads: int = 2  # such operations at once (abandoned ones included)
    max_rules_bytes: int = 262_144  # source of checkRules / explain(rules:)
    max_id_length: int = 255  # characters of a ticket or event id
    max_key_bytes: int = 2000  # UTF-8 bytes of requester/department/assignee (PG index: 2704)
    max_text_bytes: int = 100_000  # UTF-8 bytes of any other text value of a ticket or event
    max_compliance_days: int = 400  # the longest `from`..`to` of a compliance report
    body_timeout: float = 30.0  # seconds a request body may take to arrive (then 408)
    open_introspection: bool = False  # with tokens: schema introspection without a token

    def __post_init__(self) -> None:
        if not isinstance(self.tokens, TokenTable):  # constant-time lookups, hidden in repr
            object.__setattr__(self, "tokens", TokenTable(self.tokens))

    @property
    def auth_enabled(self) -> bool:
        return bool(self.tokens)


def _port(value: str, name: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise SettingsError(f"{name} `{value}` is not a port number (1-65535)") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"{name} `{value}` is not a port number (1-65535)")
    return port


def _seconds(value: str, name: str, most: float = 3600) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= most:
        raise SettingsError(f"{name} `{value}` is not a number of seconds (0 < s <= {most:g})")
    return seconds


_INTS = (  # (variable, setting, least, most)
    ("SLA_MAX_COST", "max_cost", 10, 1_000_000),
    ("SLA_EXPENSIVE_THREADS", "expensive_threads", 1, 64),
    ("SLA_MAX_RULES_BYTES", "max_rules_bytes", 1024, 16_000_000),
    ("SLA_MAX_ID_LENGTH", "max_id_length", 16, 2000),
    ("SLA_MAX_KEY_BYTES", "max_key_bytes", 64, 1_000_000),
    ("SLA_MAX_TEXT_BYTES", "max_text_bytes", 1024, 16_000_000),
    ("SLA_MAX_COMPLIANCE_DAYS", "max_compliance_days", 1, 36_600),
)


def _int(value: str, name: str, least: int, most: int) -> int:
    try:
        n = int(value) if len(value) < 12 else -1
    except ValueError:
        n = -1
    if not least <= n <= most:
        raise SettingsError(f"{name} `{value[:20]}` is not a whole number ({least} to {most})")
    return n


def _flag(value: str, name: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} `{value}` is not a flag (use 1 or 0)")


def load_settings(
    env: Mapping[str, str],
    *,
    rules: str | None = None,
    db: str | None = None,
    host: str | None = None,
    port: str | int | None = None,
    tokens: str | None = None,
    tokens_file: str | None = None,
    webhook_url: str | None = None,
    workers: str | int | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Settings from the environment, overridden by explicit (`serve`) options."""

    def pick(option: object, key: str) -> str | None:
        if option is not None:
            return str(option)
        value = env.get(key)
        return value if value not in (None, "") else None

    kw: dict[str, object] = {}
    if (v := pick(rules, "SLA_RULES")) is not None:
        path = Path(v)
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
        if not path.exists():
            raise SettingsError(
                f"SLA_RULES `{v}` does not exist (a .sla file or a directory of them)"
            )
        kw["rules"] = path
    elif not default_rules_path().is_dir():
        raise SettingsError("no ruleset given and the bundled examples are missing: set SLA_RULES")
    if (v := pick(db, "SLA_DATABASE_URL")) is not None:
        kw["database"] = parse_database_url(v, cwd)
    else:
        kw["database"] = parse_database_url(f"sqlite:///{DEFAULT_DB_FILE}", cwd)
    if (v := pick(port, "SLA_PORT")) is not None:
        kw["port"] = _port(v, "SLA_PORT")
    the_host = pick(host, "SLA_HOST") or DEFAULT_HOST
    kw["host"] = the_host
    inline, from_file = pick(tokens, "SLA_TOKENS"), pick(tokens_file, "SLA_TOKENS_FILE")
    if inline is not None and from_file is not None:
        raise SettingsError("set SLA_TOKENS or SLA_TOKENS_FILE, not both")
    if inline is not None:
        kw["tokens"] = parse_tokens(inline)
    elif from_file is not None:
        kw["tokens"] = read_tokens_file(from_file, cwd)
    elif not is_loopback(the_host):
        raise SettingsError(
            f"SLA_HOST `{the_host}` is not loopback: set SLA_TOKENS_FILE or SLA_TOKENS "
            "(token:role,…) before listening on other interfaces"
        )
    if (v := pick(webhook_url, "SLA_WEBHOOK_URL")) is not None:
        if urlsplit(v).scheme not in ("http", "https"):
            raise SettingsError(f"SLA_WEBHOOK_URL `{v}` is not an http(s) URL")
        kw["webhook_url"] = v
    kw["webhook_secret"] = pick(None, "SLA_WEBHOOK_SECRET")
    if (v := pick(None, "SLA_GRAPHIQL")) is not None:
        kw["graphiql"] = _flag(v, "SLA_GRAPHIQL")
    if (v := pick(None, "SLA_CORS_ORIGINS")) is not None:
        kw["cors_origins"] = parse_origins(v)
    if (v := pick(None, "SLA_SCHEDULER")) is not None:
        kw["scheduler"] = _flag(v, "SLA_SCHEDULER")
    if (v := pick(None, "SLA_WEBHOOK_TIMEOUT")) is not None:
        kw["webhook_timeout"] = _seconds(v, "SLA_WEBHOOK_TIMEOUT")
    if (v := pick(None, "SLA_ALERT_LEASE")) is not None:
        kw["alert_lease"] = _seconds(v, "SLA_ALERT_LEASE")
    if (v := pick(None, "SLA_ALERT_MAX_AGE")) is not None:
        kw["alert_max_age"] = _seconds(v, "SLA_ALERT_MAX_AGE", 366 * 86_400)
    if (v := pick(None, "SLA_MAX_CLOCK_SKEW")) is not None:
        kw["max_clock_skew"] = _seconds(v, "SLA_MAX_CLOCK_SKEW", 366 * 86_400)
    if (v := pick(None, "SLA_PREVIEW_MAX_SECONDS")) is not None:
        kw["preview_max_seconds"] = _seconds(v, "SLA_PREVIEW_MAX_SECONDS", 600)
    if (v := pick(None, "SLA_PREVIEW_MAX_TICKETS")) is not None:
        try:
            cap = int(v)
        except ValueError:
            cap = 0
        if cap < 1:
            raise SettingsError(f"SLA_PREVIEW_MAX_TICKETS `{v}` is not a number of tickets (1+)")
        kw["preview_max_tickets"] = cap
    for name, key, low, high in _INTS:
        if (v := pick(None, name)) is not None:
            kw[key] = _int(v, name, low, high)
    if (v := pick(None, "SLA_OPERATION_TIMEOUT")) is not None:
        kw["operation_timeout"] = _seconds(v, "SLA_OPERATION_TIMEOUT")
    if (v := pick(None, "SLA_BODY_TIMEOUT")) is not None:
        kw["body_timeout"] = _seconds(v, "SLA_BODY_TIMEOUT")
    if (v := pick(None, "SLA_INTROSPECTION")) is not None:
        if v.strip().lower() not in ("read", "open"):
            raise SettingsError(f"SLA_INTROSPECTION `{v}` is `read` (default) or `open`")
        kw["open_introspection"] = v.strip().lower() == "open"
    if (v := pick(workers, "SLA_WORKERS")) is not None:
        try:
            n = int(v)
        except ValueError:
            n = 0
        if n < 1:
            raise SettingsError(f"SLA_WORKERS `{v}` is not a number of processes (1 or more)")
        database = kw["database"]
        assert isinstance(database, DatabaseConfig)
        if n > 1 and database.provider == "sqlite":
            raise SettingsError(
                f"SLA_WORKERS `{v}`: SQLite serves one process only; use --workers 1, or "
                "PostgreSQL (SLA_DATABASE_URL=postgresql://user@host:5432/db) for several"
            )
        kw["workers"] = n
    return Settings(**kw)  # type: ignore[arg-type]
