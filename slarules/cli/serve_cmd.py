"""`slarules serve`: settings → ruleset → store → uvicorn (same as `python server.py`).

Everything that can be wrong with a setting is checked before uvicorn
starts, so a bad setting is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import Any

from slarules.cli import COMMANDS
from slarules.errors import RulesError, SettingsError
from slarules.settings import DEMO_DB_FILE


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help=COMMANDS["serve"],
        description="Serve the GraphQL API (options override the SLA_* environment variables).",
    )
    p.add_argument("--rules", help="ruleset: a .sla file or a directory (SLA_RULES)")
    p.add_argument(
        "--db", help="sqlite:///file.db or postgresql://user@host:port/db (SLA_DATABASE_URL)"
    )
    p.add_argument("--host", help="interface to listen on (SLA_HOST, default 127.0.0.1)")
    p.add_argument("--port", help="port (SLA_PORT, default 8000)")
    p.add_argument(
        "--tokens",
        help="bearer tokens `token:role,…` (SLA_TOKENS; visible in the process list, "
        "prefer --tokens-file)",
    )
    p.add_argument(
        "--tokens-file",
        dest="tokens_file",
        help="a file of bearer tokens, same format, mode 600 (SLA_TOKENS_FILE)",
    )
    p.add_argument("--webhook-url", dest="webhook_url", help="alert webhook (SLA_WEBHOOK_URL)")
    p.add_argument(
        "--workers", help="server processes (SLA_WORKERS, default 1; more need PostgreSQL)"
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="first record the bundled example tickets, moved to the current time "
        f"(database default: {DEMO_DB_FILE} in the current directory)",
    )


def _shown(path: Path) -> str:
    """A path as short as it stays clear: relative to the cwd or the repository."""
    path = path.resolve()
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        try:
            return str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)


def _check_bind(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            hint = " (another server runs there? choose one with --port)" if port else ""
            raise SettingsError(
                f"cannot listen on {host}:{port}: {e.strerror or e}{hint}"
            ) from None


def run(args: argparse.Namespace) -> int:
    from slarules.app import create_app
    from slarules.clock import SystemClock
    from slarules.runtime import build_ruleset
    from slarules.settings import load_settings
    from slarules.store import Store

    clock = SystemClock()
    db = args.db
    if args.demo and db is None and not os.environ.get("SLA_DATABASE_URL"):
        db = f"sqlite:///{DEMO_DB_FILE}"  # demo tickets stay out of a real database
    try:
        settings = load_settings(
            os.environ,
            rules=args.rules,
            db=db,
            host=args.host,
            port=args.port,
            tokens=args.tokens,
            tokens_file=args.tokens_file,
            webhook_url=args.webhook_url,
            workers=args.workers,
        )
        live, result = build_ruleset(settings.rules, clock.now())
        if live is None:
            for d in result.diagnostics:
                print(d.render(), file=sys.stderr)
            print(
                f"slarules: the rules in {_shown(settings.rules)} have errors; not starting",
                file=sys.stderr,
            )
            return 2
        _check_bind(settings.host, settings.port)
        if args.demo:
            _record_demo(settings, clock)
        store = Store.open(settings.database)
        app = create_app(settings, clock, ruleset=live, store=store)
    except RulesError as e:  # no .sla files at the path
        print(f"slarules: {e}", file=sys.stderr)
        return 2
    except SettingsError as e:
        print(f"slarules: {e}", file=sys.stderr)
        return 2

    import uvicorn

    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = f"http://{host}:{settings.port}"
    print(f"slarules: SLA board {base}/  GraphQL API {base}/graphql", flush=True)
    print(
        f"slarules: rules {_shown(settings.rules)} (version {live.policy.version}), "
        f"database {settings.database.display}",
        flush=True,
    )
    if not settings.tokens:
        print(
            "slarules: no SLA_TOKENS or SLA_TOKENS_FILE set: every caller is admin, "
            "so only loopback is served",
            flush=True,
        )
    from slarules.logs import configure_json_logs

    configure_json_logs()
    if settings.workers > 1:
        # each worker process builds its own app from the environment (PostgreSQL only)
        store.close()
        os.environ.update(_environment(args, settings))
        uvicorn.run(
            "slarules.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            lifespan="on",
            log_level="warning",
            timeout_graceful_shutdown=10,
        )
        return 0
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        lifespan="on",
        log_level="warning",
        timeout_graceful_shutdown=10,
    )
    return 0


def _record_demo(settings: Any, clock: Any) -> None:
    from slarules.loading.demo import record_demo

    summary = record_demo(settings, clock)
    for e in summary.errors:
        print(f"slarules: demo: {e.render()}", file=sys.stderr)
    print(
        f"slarules: demo: {summary.tickets_new} example tickets recorded "
        f"({summary.tickets_present} there already), moved to the current time",
        flush=True,
    )


def _environment(args: argparse.Namespace, settings: Any) -> dict[str, str]:
    """The options as SLA_* variables, for worker processes that read the environment."""
    env = {
        "SLA_RULES": str(settings.rules),
        "SLA_HOST": settings.host,
        "SLA_PORT": str(settings.port),
        "SLA_WORKERS": "1",
    }
    if args.db:
        env["SLA_DATABASE_URL"] = args.db
    if args.tokens:
        env["SLA_TOKENS"] = args.tokens
    if args.tokens_file:
        env["SLA_TOKENS_FILE"] = str(Path(args.tokens_file).resolve())
    if args.webhook_url:
        env["SLA_WEBHOOK_URL"] = args.webhook_url
    return env
