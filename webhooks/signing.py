"""Signing a webhook: HMAC-SHA256 over `TIMESTAMP.BODY` with the webhook's secret.

A receiver recomputes it and compares in constant time, and rejects a timestamp too far
from its own clock (a replayed request): `verify` does both, as docs/api.md shows.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

HEADER_ID = "Webhook-Id"  # the event's id: the same on every retry (de-duplicate by it)
HEADER_TIMESTAMP = "Webhook-Timestamp"  # this attempt's time, Unix seconds
HEADER_SIGNATURE = "Webhook-Signature"  # "v1=" + hex HMAC-SHA256(secret, TIMESTAMP + "." + body)
TOLERANCE = 300.0  # seconds a receiver should accept between the timestamp and its clock


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None, tolerance: float = TOLERANCE
) -> bool:
    """True when `headers` carry a valid signature of `body` made within `tolerance` seconds."""
    lower = {k.lower(): v for k, v in headers.items()}
    ts = lower.get(HEADER_TIMESTAMP.lower(), "")
    given = lower.get(HEADER_SIGNATURE.lower(), "")
    if not ts.isdigit() or abs((now or time.time()) - int(ts)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), given)
