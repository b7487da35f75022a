"""The playground as plain HTTP: page and assets, the live ruleset's text, the fixture reader
(TOML and JSON into `explain` variables) and the `read` role on both."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from slarules.app import create_app
from slarules.settings import Settings, parse_database_url

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "examples" / "helpdesk" / "fixtures" / "07-standard-next-response-cycles.toml"
READ = {"authorization": "Bearer reader"}
EXPLAIN = """query($ticket: TicketInput!, $events: [ExplainEventInput!]!, $now: DateTime) {
  explain(ticket: $ticket, events: $events, now: $now) { level { name } decidedBy
    cycles { metric index state dueAt } } }"""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = replace(
        Settings(database=parse_database_url(f"sqlite:///{tmp_path / 'store.db'}")),
        tokens={"reader": "read"},
    )
    with TestClient(create_app(settings)) as c:
        yield c


def test_page_and_assets_load_nothing_from_elsewhere(client: TestClient) -> None:
    r = client.get("/playground")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for name, kind in (("playground.js", "javascript"), ("playground.css", "css")):
        a = client.get(f"/playground/{name}")
        assert a.status_code == 200 and kind in a.headers["content-type"]
    assert client.get("/playground/nope.js").status_code == 404
    for name in ("index.html", "playground.js", "playground.css"):
        text = resources.files("slarules.playground").joinpath(name).read_text("utf-8")
        assert not re.findall(r"https?://", text), name  # no CDN, no external fetch


def test_live_ruleset_text_builds_as_one_file(client: TestClient) -> None:
    assert client.get("/playground/ruleset").status_code == 401
    r = client.get("/playground/ruleset", headers=READ)
    assert r.status_code == 200
    assert r.text.startswith("# file: 00-setup.sla\n")
    assert "# file: 20-rules.sla\n" in r.text
    q = "query($s: String!) { checkRules(source: $s) { code } }"
    got = client.post("/graphql", json={"query": q, "variables": {"s": r.text}}, headers=READ)
    assert got.json() == {"data": {"checkRules": []}}


def test_a_toml_fixture_becomes_explain_variables(client: TestClient) -> None:
    assert client.post("/playground/ticket", content=FIXTURE.read_bytes()).status_code == 401
    r = client.post("/playground/ticket", content=FIXTURE.read_bytes(), headers=READ)
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["ticket"]["createdBy"] == "CUSTOMER" and v["ticket"]["fields"]["source"] == "email"
    assert v["now"].endswith("-03:00")
    assert [sorted(k for k in e if k != "at") for e in v["events"]][:2] == [
        ["message"],
        ["message"],
    ]
    x = client.post("/graphql", json={"query": EXPLAIN, "variables": v}, headers=READ).json()
    assert x["data"]["explain"]["level"] == {"name": "standard"}
    assert [c["index"] for c in x["data"]["explain"]["cycles"] if c["metric"] == "NEXT_RESPONSE"]


def test_json_fixture_and_errors(client: TestClient) -> None:
    doc = {
        "now": "2026-03-02T12:00:00Z",
        "ticket": {"id": "J-1", "created_at": "2026-03-02T10:00:00Z", "source": "chat"},
        "events": [
            {"at": "2026-03-02T10:05:00Z", "type": "status", "status": "pending"},
            {"at": "2026-03-02T10:06:00Z", "type": "update", "set": {"department": "x"}},
        ],
    }
    r = client.post("/playground/ticket", content=json.dumps(doc), headers=READ)
    assert r.json()["events"] == [
        {"at": "2026-03-02T10:05:00Z", "status": "pending"},
        {"at": "2026-03-02T10:06:00Z", "update": {"set": {"department": "x"}, "unset": []}},
    ]
    bad = client.post(
        "/playground/ticket",
        content=b'[ticket]\nid = "x"\ncreated_at = 2026-03-02T10:00:00\n',
        headers=READ,
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "BAD_USER_INPUT" and "no offset" in bad.json()["error"]
    syntax = client.post("/playground/ticket", content=b"[ticket\n", headers=READ)
    assert syntax.status_code == 400 and "line 1" in syntax.json()["error"]
