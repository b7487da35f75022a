"""The board's page and assets as plain HTTP: content types, no external URLs, open hours."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from slarules.app import create_app
from slarules.board.routes import ASSETS
from slarules.settings import Settings, parse_database_url

FILES = (
    "index.html",
    "format.js",
    "api.js",
    "timeline.js",
    "compliance.js",
    "board.js",
    "board.css",
)
SVG_NAMESPACE = "http://www.w3.org/2000/svg"  # an XML namespace name, never fetched


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = replace(
        Settings(database=parse_database_url(f"sqlite:///{tmp_path / 'store.db'}")),
        tokens={"reader": "read"},
    )
    with TestClient(create_app(settings)) as c:
        yield c


def text(name: str) -> str:
    return resources.files("slarules.board").joinpath(name).read_text("utf-8")


@pytest.mark.parametrize("path", ["/", "/board"])
def test_the_page_is_served_as_html_without_a_token(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    scripts = re.findall(r'<script src="(/board/[\w.]+)" defer></script>', r.text)
    assert scripts == [f"/board/{n}" for n in FILES if n.endswith(".js")]  # in load order
    assert '<link rel="stylesheet" href="/board/board.css">' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "content_type", "needle"),
    [
        ("/board/board.js", "text/javascript; charset=utf-8", "graphql-transport-ws"),
        ("/board/board.css", "text/css; charset=utf-8", ".badge"),
    ],
)
def test_assets_have_their_content_types(
    client: TestClient, path: str, content_type: str, needle: str
) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == content_type
    assert needle in r.text


@pytest.mark.parametrize("path", ["/board/nope.js", "/board/routes.py", "/board/__init__.py"])
def test_only_the_listed_assets_are_served(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.json()["code"] == "NOT_FOUND"


def test_every_served_asset_is_listed() -> None:
    assert set(ASSETS) == set(FILES) - {"index.html"}


@pytest.mark.parametrize("name", FILES)
def test_no_external_urls(name: str) -> None:
    body = text(name)
    urls = set(re.findall(r"(?:https?:|wss?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)]*", body))
    assert urls <= {SVG_NAMESPACE}, urls
    assert "@import" not in body and "cdn" not in body.lower()


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href", "action"):
            if a.get(key):
                self.refs.append(a[key] or "")
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")
        if tag in ("input", "select") and a.get("type") != "hidden":
            self.controls.append(a.get("id") or "")


def test_page_references_only_same_origin_and_labels_every_control() -> None:
    p = _Refs()
    p.feed(text("index.html"))
    assert p.refs, "the page links its assets"
    assert all(r.startswith(("/", "#", "data:")) for r in p.refs), p.refs
    assert p.controls and all(c and c in p.labels for c in p.controls), (p.controls, p.labels)


@pytest.mark.parametrize("name", [n for n in FILES if n.endswith(".js")])
def test_the_scripts_parse(name: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"node is not installed: cannot syntax-check {name}")
    path = resources.files("slarules.board").joinpath(name)
    r = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_calendars_give_each_time_zone(client: TestClient) -> None:
    assert client.get("/board/calendars").status_code == 401
    r = client.get("/board/calendars", headers={"Authorization": "Bearer reader"})
    assert r.status_code == 200
    assert r.json() == {
        "timeZone": "America/Sao_Paulo",
        "calendars": {
            "always": "UTC",  # the built-in 24x7 calendar
            "business": "America/Sao_Paulo",
            "follow_the_sun": "Europe/Berlin",
        },
    }


# -- open hours (business-hours shading of the timeline) ----------------------------------


def test_open_hours_of_a_level_calendar(client: TestClient) -> None:
    # Monday 2026-03-02 in Sao Paulo (UTC-3): 09:00-12:00 and 13:00-18:00
    r = client.get(
        "/board/open-hours",
        params={
            "calendar": "business",
            "from": "2026-03-02T00:00:00Z",
            "to": "2026-03-03T00:00:00Z",
        },
        headers={"Authorization": "Bearer reader"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "calendar": "business",
        "intervals": [
            ["2026-03-02T12:00:00Z", "2026-03-02T15:00:00Z"],
            ["2026-03-02T16:00:00Z", "2026-03-02T21:00:00Z"],
        ],
    }


@pytest.mark.parametrize(
    ("params", "auth", "status", "code"),
    [
        ({"calendar": "business"}, None, 401, "UNAUTHENTICATED"),
        ({"calendar": "business"}, "Bearer expired", 401, "UNAUTHENTICATED"),
        ({"calendar": "nope"}, "Bearer reader", 400, "BAD_USER_INPUT"),
        (
            {"calendar": "business", "to": "2026-09-01T00:00:00Z"},
            "Bearer reader",
            400,
            "BAD_USER_INPUT",
        ),
        (
            {"calendar": "business", "from": "2026-03-02T00:00:00"},
            "Bearer reader",
            400,
            "BAD_USER_INPUT",
        ),
    ],
)
def test_open_hours_refuses_bad_requests(
    client: TestClient, params: dict[str, str], auth: str | None, status: int, code: str
) -> None:
    q = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z", **params}
    headers = {"Authorization": auth} if auth else {}
    r = client.get("/board/open-hours", params=q, headers=headers)
    assert r.status_code == status
    body = r.json()
    assert body["code"] == code and body["error"]
