"""Where the outbox delivers: one `WebhookTarget` per `[[webhooks]]` table, one
`AlertTarget` for the `[alerts]` command. Each says which events it wants, in which
lanes they keep their order, and delivers one event, saying what came of it."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from common import events as E
from common.errors import one_line
from store.records import Delivery

from .signing import HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign

USER_AGENT = "wa-sender-webhooks/1"
ALERTS = "alerts"


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt gave: delivered, retry later, or dead (and why)."""

    ok: bool
    retry: bool = True  # a failure worth trying again (no answer, 5xx, 408, 429)
    error: str = ""
    retry_after: float | None = None  # the receiver asked for this many seconds (429, 503)
    defer_until: float | None = None  # not yet: try at this time, no attempt counted
    note: str | None = None  # settled without delivery (why)


def envelope(d: Delivery) -> dict[str, Any]:
    """What a receiver gets: {id, timestamp, event, account, payload}."""
    return {
        "id": d.uid,
        "timestamp": datetime.fromtimestamp(d.at, UTC).isoformat().replace("+00:00", "Z"),
        "event": d.event,
        "account": d.account,
        "payload": d.payload,
    }


def body_of(d: Delivery) -> bytes:
    return json.dumps(envelope(d), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def redact_url(url: str) -> str:
    """A URL as shown to people: no user, password or query (they may hold a token)."""
    p = urlsplit(url)
    host = p.hostname or ""
    if p.port:
        host = f"{host}:{p.port}"
    return urlunsplit((p.scheme, host, p.path, "", ""))


def _topics(d_event: str, state: str | None) -> tuple[str, ...]:
    return E.topics(d_event, state)


class WebhookTarget:
    """One [[webhooks]] table: POSTs the signed envelope to its URL."""

    def __init__(self, url: str, secret: str, events: tuple[str, ...]) -> None:
        self.url = url
        self.secret = secret
        self.events = frozenset(events)
        self.name = "webhook:" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
        self.label = redact_url(url)

    def wants(self, event: str, state: str | None) -> bool:
        return any(t in self.events for t in _topics(event, state))

    def lane(self, event: str, account: str | None) -> str:
        return account or ""

    def deliver(self, d: Delivery, client: Any, now: float | None = None) -> Outcome:
        """Try to deliver one event once; say what became of it."""
        import httpx

        body = body_of(d)
        ts = str(int(now or time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            HEADER_ID: d.uid,
            HEADER_TIMESTAMP: ts,
            HEADER_SIGNATURE: sign(self.secret, ts, body),
        }
        try:
            r = client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Outcome(False, error="no answer within the timeout")
        except httpx.HTTPError as exc:
            return Outcome(False, error=one_line(f"cannot reach the receiver: {exc.__class__.__name__}: {exc}", 200))
        if 200 <= r.status_code < 300:
            return Outcome(True)
        retry = r.status_code >= 500 or r.status_code in (408, 429)
        after = r.headers.get("Retry-After", "")
        return Outcome(
            False,
            retry=retry,
            error=f"HTTP {r.status_code}" + ("" if retry else " (not retried)"),
            retry_after=float(after) if after.isdigit() else None,
        )


class AlertTarget:
    """The `[alerts]` command, run with /bin/sh, the envelope on stdin. Its lanes are per
    account and event, so that an alert waiting to see whether a logout lasts holds up
    no other alert."""

    name = ALERTS

    def __init__(self, command: str, events: tuple[str, ...], logged_out_after: float, timeout: float, store: Any):
        self.command = command
        self.events = frozenset(events)
        self.logged_out_after = logged_out_after
        self.timeout = timeout
        self.store = store
        self.label = "alert command"

    def wants(self, event: str, state: str | None) -> bool:
        return any(t in self.events for t in _topics(event, state))

    def lane(self, event: str, account: str | None) -> str:
        return f"{account or ''}/{event}"

    def deliver(self, d: Delivery, client: Any = None, now: float | None = None) -> Outcome:
        """Try to deliver one event once; say what became of it."""
        now = now or time.time()
        if d.event == E.ACCOUNT_STATE and d.payload.get("state") == "logged_out" and d.account:
            due = d.at + self.logged_out_after
            if now < due:
                return Outcome(False, defer_until=due, error="waiting to see whether the logout lasts")
            acc = self.store.account(d.account)
            if acc is None or acc.login != "logged_out" or (acc.login_at or 0) > d.at + 1:
                return Outcome(True, note="not sent: the account logged in again")
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", self.command],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
                close_fds=True,
                env=dict(os.environ, WA_SENDER_EVENT=d.event),
            )
        except OSError as exc:
            return Outcome(False, error=f"cannot run the alert command: {exc}")
        try:
            _, err = proc.communicate(body_of(d) + b"\n", timeout=self.timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.communicate()
            return Outcome(False, error=f"the alert command ran longer than {self.timeout:g} s: killed")
        if proc.returncode == 0:
            return Outcome(True)
        last = (err.decode("utf-8", "replace").strip().splitlines() or [""])[-1]
        return Outcome(False, error=one_line(f"the alert command exited {proc.returncode}: {last}", 200))
