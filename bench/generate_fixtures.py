"""Generate a 200-rule ruleset and N random fixture tickets (about 10 events each).

Run: `python bench/generate_fixtures.py OUT_DIR [-n 5000] [--seed 1] [--rules 200]`.
Writes `OUT_DIR/rules/*.sla` and `OUT_DIR/fixtures/NNNN/*.toml`. Each fixture's
`expect` (level, rule, every metric's cycles with state, elapsed, due_at) is
filled in by measuring the ticket once with the engine, so `slarules test`
passes on them and the benchmark exercises loading, measuring and comparing.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SETUP = """timezone "America/Sao_Paulo"

schema {
  priorities low < medium < high < critical
  sources email, chat, phone, web, api
  field contract_tier: text
  field seats: number
  field beta: bool
}

statuses {
  open = "new", "open"
  waiting = "pending"
  hold = "on hold"
  done = "solved", "closed"
}

calendar business {
  timezone "America/Sao_Paulo"
  hours mon-fri 09:00-12:00, 13:00-18:00
  holidays "BR" subdivision "SP"
}

calendar extended {
  timezone "America/New_York"
  hours mon-sat 07:00-22:00
}

calendar always_on {
  timezone "Europe/Berlin"
  hours mon-sun 00:00-24:00
}
"""

LEVELS = """level gold {
  calendar always_on
  first_response 1h
  next_response 30m
  periodic_response 2h
  resolution 8h
  pause when status == "on hold"
  warn at 50%, 80%
  warn before 15m
}

level silver {
  calendar extended
  first_response by priority { critical 1h, high 2h, else 4h }
  first_response by source { chat 5m, phone 2m }
  next_response 2h
  agent_work 6h
  resolution 24h
  warn at 75%
}

level bronze {
  calendar business
  first_response 8h
  next_response 8h
  requester_wait 72h
  resolution 40h
  pause resolution when tags contains "vendor"
  warn at 80%
}

level partner {
  calendar business
  first_response 4h
  resolution 16h
}

default level bronze
"""

DEPARTMENTS = ("support", "sales", "billing", "ops", "legal", "hr", "it", "field")
TAGS = ("billing", "outage", "vendor", "refund", "bug", "feature", "urgent", "spam", "eu", "us")
STATUSES = ("open", "pending", "on hold", "solved", "closed", "new")
LEVEL_NAMES = ("gold", "silver", "bronze", "partner")


def rules_text(n: int, rng: random.Random) -> str:
    """`n` ordered rules of varied shapes; a few match common tickets, most do not."""
    out = []
    for i in range(n):
        k = i % 8
        dep = DEPARTMENTS[i % len(DEPARTMENTS)]
        tag = TAGS[i % len(TAGS)]
        cond = [
            f'department == "{dep}" and priority >= "high"',
            f'tags contains "{tag}" and source in ["email", "web"]',
            f'contract_tier in ["t{i}", "enterprise"] and seats > {rng.randint(50, 500)}',
            f'customer_group == "g{i}" or subject matches /(?i)case {i}\\b/',
            f'tags contains any ["{tag}", "x{i}"] and not beta',
            f'created_at.weekday in ["sat", "sun"] and department == "{dep}"',
            f'priority == "critical" and tags contains all ["{tag}", "outage"]',
            f'assignee starts with "a{i}" and status != "pending"',
        ][k]
        level = LEVEL_NAMES[(i // 8) % len(LEVEL_NAMES)]
        stop = "\n  stop" if i % 5 == 0 else ""
        out.append(f'rule "r{i:03d}" {{\n  when {cond}\n  set level {level}{stop}\n}}\n')
    return "\n".join(out)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


def ticket(rng: random.Random, i: int) -> tuple[dict[str, Any], list[dict[str, Any]], datetime]:
    """Initial fields, about 10 events in time order, and `now`."""
    tz = timezone(timedelta(hours=-3))
    start = datetime(2026, 3, 2, 8, 0, tzinfo=tz)
    created = start + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
    fields: dict[str, Any] = {
        "id": f"B-{i:05d}",
        "created_at": created,
        "source": rng.choice(("email", "chat", "phone", "web", "api")),
        "status": "new",
        "priority": rng.choice(("low", "medium", "high", "critical")),
        "department": rng.choice(DEPARTMENTS),
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "seats": rng.randint(1, 1000),
        "contract_tier": rng.choice(("basic", "enterprise", "premium")),
        "customer_group": rng.choice(("VIP", "regular", "g3")),
    }
    if rng.random() < 0.3:
        fields["beta"] = rng.random() < 0.5
    at = created
    events: list[dict[str, Any]] = []
    for _ in range(rng.randint(8, 12)):
        at += timedelta(minutes=rng.randint(1, 240))
        r = rng.random()
        if r < 0.55:
            by = rng.choice(("customer", "agent"))
            ev: dict[str, Any] = {"at": at, "type": "message", "by": by}
            if rng.random() < 0.5:
                ev["text"] = f"message {len(events)}"
            if by == "agent" and rng.random() < 0.1:
                ev["public"] = False
        elif r < 0.85:
            ev = {"at": at, "type": "status", "status": rng.choice(STATUSES)}
        else:
            ev = {
                "at": at,
                "type": "update",
                "set": {"priority": rng.choice(("low", "medium", "high", "critical"))},
            }
            if rng.random() < 0.3:
                ev["set"]["tags"] = rng.sample(TAGS, rng.randint(1, 2))
        events.append(ev)
    now = at + timedelta(minutes=rng.randint(0, 600))
    return fields, events, now


def fixture_text(
    fields: dict[str, Any], events: list[dict[str, Any]], now: datetime, expect: list[str], i: int
) -> str:
    lines = [f'name = "generated ticket {i}"', f"now = {_toml(now)}", "", "[ticket]"]
    lines += [f"{k} = {_toml(v)}" for k, v in fields.items()]
    for ev in events:
        lines += ["", "[[events]]"] + [f"{k} = {_toml(v)}" for k, v in ev.items()]
    return "\n".join([*lines, "", *expect]) + "\n"


def expectations(policy: Any, path: Path) -> list[str]:
    """The `expect` section that the engine's current answer satisfies."""
    from slarules.engine.policy import METRICS
    from slarules.engine.timers import measure
    from slarules.fixtures import load_fixture

    fx = load_fixture(path, policy, explain=True)
    m = measure(policy, fx.history, fx.now)
    out = ["[expect]", f'level = "{m.level or "none"}"', f"rule = {_toml(m.decision.decided_by)}"]
    for metric in METRICS:
        cycles = m.cycles_of(metric)
        if not cycles:
            out.append(f'{metric} = "none"')
    for metric in METRICS:
        for c in m.cycles_of(metric):
            due = "none" if c.due_at is None else c.due_at.isoformat()
            out += [
                "",
                f"[[expect.{metric}]]",
                f'state = "{c.state}"',
                f'elapsed = "{c.elapsed}s"',
                f"due_at = {_toml(due) if due == 'none' else due}",
            ]
    return out


def generate(out: Path, n: int, seed: int = 1, n_rules: int = 200) -> tuple[Path, Path]:
    """Write the ruleset and `n` fixtures under `out`; return (rules dir, fixtures dir)."""
    from slarules.rulesets import load_policy

    rng = random.Random(seed)
    rules = out / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    (rules / "00-setup.sla").write_text(SETUP)
    (rules / "10-levels.sla").write_text(LEVELS)
    (rules / "20-rules.sla").write_text(rules_text(n_rules, rng))
    policy = load_policy(rules)
    fixtures = out / "fixtures"
    for i in range(n):
        d = fixtures / f"{i // 1000:04d}"
        d.mkdir(parents=True, exist_ok=True)
        f = d / f"t{i:05d}.toml"
        fields, events, now = ticket(rng, i)
        f.write_text(fixture_text(fields, events, now, ["[expect]", 'level = "none"'], i))
        f.write_text(fixture_text(fields, events, now, expectations(policy, f), i))
    return rules, fixtures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("-n", type=int, default=5000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rules", type=int, default=200)
    a = p.parse_args()
    rules, fixtures = generate(a.out, a.n, a.seed, a.rules)
    print(f"wrote {rules} ({a.rules} rules) and {a.n} fixtures under {fixtures}")


if __name__ == "__main__":
    main()
