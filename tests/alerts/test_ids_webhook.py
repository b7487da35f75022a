"""Alert ids are stable and distinct; webhook bodies are signed and verifiable."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

from slarules.alerts.webhook import (
    ID_HEADER,
    SIGNATURE_HEADER,
    backoff_seconds,
    post,
    sign,
    verify,
)
from slarules.engine.alerts import alert_id, threshold_key

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_alert_id_is_stable_across_offsets() -> None:
    same = START.astimezone(timezone(timedelta(hours=-3)))
    assert alert_id("T-1", "resolution", START, "breach") == alert_id(
        "T-1", "resolution", same, "breach"
    )


def test_alert_id_differs_per_component() -> None:
    base = alert_id("T-1", "resolution", START, "warning", percent=80)
    others = {
        alert_id("T-2", "resolution", START, "warning", percent=80),
        alert_id("T-1", "first_response", START, "warning", percent=80),
        alert_id("T-1", "resolution", START + timedelta(seconds=1), "warning", percent=80),
        alert_id("T-1", "resolution", START, "warning", percent=50),
        alert_id("T-1", "resolution", START, "warning", before=900),
        alert_id("T-1", "resolution", START, "breach"),
    }
    assert base not in others and len(others) == 6


def test_threshold_key() -> None:
    assert threshold_key("breach", None, None) == "breach"
    assert threshold_key("warning", 12.5, None) == "warning:p12.5"
    assert threshold_key("warning", None, 900) == "warning:b900"


def test_sign_and_verify() -> None:
    body = b'{"id":"x"}'
    sig = sign("s3cret", body)
    assert sig.startswith("sha256=") and verify("s3cret", body, sig)
    assert not verify("other", body, sig)
    assert not verify("s3cret", body + b" ", sig)


def test_backoff_grows_and_caps() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_seconds(50) == 300.0


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []  # lower-case header names
    status = 204

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _serve(status: int) -> tuple[HTTPServer, type[_Receiver]]:
    handler = type("Recv", (_Receiver,), {"received": [], "status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


def test_post_delivers_signed_json_to_a_real_receiver() -> None:
    server, handler = _serve(204)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        result = post(url, {"id": "abc", "kind": "BREACH"}, "s3cret")
        assert result.ok and result.status == 204
        headers, body = handler.received[0]
        assert json.loads(body) == {"id": "abc", "kind": "BREACH"}
        assert headers[ID_HEADER.lower()] == "abc"
        assert verify("s3cret", body, headers[SIGNATURE_HEADER.lower()])
    finally:
        server.shutdown()
        server.server_close()


def test_post_reports_server_errors_and_refusals() -> None:
    server, _ = _serve(500)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        result = post(url, {"id": "abc"}, None)
        assert not result.ok and result.status == 500
    finally:
        server.shutdown()
        server.server_close()
    refused = post(url, {"id": "abc"}, None, timeout=1.0)
    assert not refused.ok and refused.status is None and refused.error
