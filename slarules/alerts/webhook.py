"""Webhook delivery: a JSON POST, signed with HMAC-SHA256 when a secret is set.

Receivers verify `X-Slarules-Signature: sha256=<hex>` (HMAC-SHA256 of the raw
body with `SLA_WEBHOOK_SECRET`) and may de-duplicate on `X-Slarules-Alert-Id`
(the alert's stable id: a delivery whose answer was lost is sent again).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-Slarules-Signature"
ID_HEADER = "X-Slarules-Alert-Id"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    ok: bool
    status: int | None  # HTTP status, None when no answer (timeout, refused)
    error: str | None = None


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def post(
    url: str, payload: dict[str, Any], secret: str | None, timeout: float = 5.0
) -> DeliveryResult:
    """POST one alert (blocking: call from a worker thread). 2xx is delivered."""
    body = encode(payload)
    headers = {"Content-Type": "application/json", "User-Agent": "slarules-alerts"}
    alert = payload.get("id")
    if isinstance(alert, str):
        headers[ID_HEADER] = alert
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status = int(resp.status)
            return DeliveryResult(200 <= status < 300, status)
    except urllib.error.HTTPError as e:
        e.close()
        return DeliveryResult(False, e.code, f"HTTP {e.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        return DeliveryResult(False, None, str(reason))


def backoff_seconds(attempt: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff for the n-th failed attempt (1-based): 1, 2, 4, … capped."""
    return float(min(cap, base * (2 ** max(0, attempt - 1))))
