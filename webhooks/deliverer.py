"""The deliverer: a loop (the supervisor runs it in a thread of its own) that turns new
outbox rows into deliveries for each target, claims the due ones lane by lane and
delivers them, lanes in parallel, each lane in order.

A failure (no answer, 5xx, 408, 429) is tried again after `retry_first` seconds, then
twice as long each time up to `retry_max`, with jitter (half the delay is random); a 4xx
other than 408 and 429 is not retried; after `attempts` tries the delivery is a dead
letter and the lane goes on. Several hosts may run one each on a shared database: the
store's claim never gives one lane to two of them, and a claim not renewed
within its lease (its deliverer died) is taken over. At least once: an event may arrive twice
(same id) when a deliverer dies between the receiver's answer and its record.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import runfiles
from common.errors import one_line
from store.records import Delivery

from .targets import AlertTarget, Outcome, WebhookTarget

POLL = 0.25  # seconds between two looks at the outbox when there was nothing to do
LANES = 16  # lanes claimed (and delivered in parallel) per target per round
BATCH = 50  # events of one lane claimed at once (delivered in order by one thread)
PRUNE_EVERY = 600.0
SUMMARY_EVERY = 5.0
SEEN_EVERY = 60.0


def backoff(attempts: int, first: float, most: float, rng: random.Random) -> float:
    """Seconds before try number `attempts + 1`: first, 2×first, 4×first… up to `most`,
    the second half of it random (so that many failed events do not all come back at once)."""
    delay = float(min(most, first * 2 ** max(attempts - 1, 0)))
    return delay / 2 + rng.uniform(0, delay / 2)


class Deliverer:
    """Delivers the outbox to every webhook target and the alert command from a thread of
    the supervisor: claims deliveries, retries with backoff and jitter, in order per account."""

    def __init__(self, store: Any, cfg: Any, *, log: logging.Logger | None = None, name: str | None = None) -> None:
        self.store = store
        self.log = log or logging.getLogger("webhooks")
        self.name = name or f"{runfiles.host_name()}:deliverer:{os.getpid()}:{int(time.time())}"
        self.rng = random.Random()
        self.targets: list[Any] = []
        self.cfg: Any = None
        self._next_cfg: Any = cfg
        self._client: Any = None
        self._pool = ThreadPoolExecutor(max_workers=LANES, thread_name_prefix="webhook-lane")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_prune = 0.0
        self._last_summary = 0.0
        self._last_seen = 0.0
        self._warned: str | None = None
        self.summary: dict[str, dict[str, Any]] = {}
        self.delivered = 0
        self.failed = 0
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------------ configuration
    def reconfigure(self, cfg: Any) -> None:
        """A new config (the supervisor re-read the file): applied at the next round."""
        with self._lock:
            self._next_cfg = cfg

    def _apply(self) -> None:
        with self._lock:
            cfg, self._next_cfg = self._next_cfg, None
        if cfg is None:
            return
        self.cfg = cfg
        targets: list[Any] = [WebhookTarget(w.url, w.secret, w.events) for w in cfg.webhooks]
        if cfg.alerts.command:
            a = cfg.alerts
            targets.append(AlertTarget(a.command, a.events, a.logged_out_after_minutes * 60, a.timeout, self.store))
        self.targets = targets
        self._last_seen = 0.0
        if self._client is None and cfg.webhooks:
            import httpx

            # trust_env=False: no proxy from the environment; receivers are called directly.
            self._client = httpx.Client(
                timeout=cfg.delivery.timeout,
                follow_redirects=False,
                trust_env=False,
                headers={"Connection": "keep-alive"},
            )
        if targets:
            self.log.info("webhooks: delivering to %s", ", ".join(t.label for t in targets))

    # ------------------------------------------------------------------ running
    def start(self) -> Deliverer:
        self.thread = threading.Thread(target=self.run, name="webhooks", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.tick()
                self._warned = None
            except Exception as exc:  # a busy or lost database: try again, say it once
                text = one_line(exc, 200)
                if text != self._warned:
                    self._warned = text
                    self.log.warning("webhooks: cannot deliver now (%s); trying again", text)
                busy = False
                self._stop.wait(2.0)
            if not busy:
                self._stop.wait(POLL)
        for t in self.targets:
            try:
                self.store.release_deliveries(t.name, self.name)
            except Exception:
                pass

    def tick(self, now: float | None = None) -> bool:
        """One round: fan out, claim, deliver. True when something was delivered."""
        self._apply()
        now = now or time.time()
        if self.cfg is None:
            return False
        if now - self._last_seen >= SEEN_EVERY:
            for t in self.targets:
                self.store.ensure_target(t.name, t.label, now=now)
            self._last_seen = now
        busy = False
        for t in self.targets:
            while self.store.fan_out(t.name, t.wants, lane=t.lane, now=now) > 0:
                pass
            lanes = self.store.claim_deliveries(t.name, self.name, lease=self.lease, lanes=LANES, batch=BATCH)
            if lanes:
                busy = True
                list(self._pool.map(lambda lane, t=t: self._deliver_lane(t, lane), lanes))
        if now - self._last_prune >= PRUNE_EVERY:
            self._last_prune = now
            self.store.prune_outbox(keep=self.cfg.delivery.keep_days * 86400, now=now)
        if now - self._last_summary >= SUMMARY_EVERY or busy:
            self._last_summary = now
            self.summary = self.store.outbox_summary()
        return busy

    @property
    def lease(self) -> float:
        """How long a claim holds without news: longer than a few attempts (each renews it)."""
        waits = [3 * self.cfg.delivery.timeout]
        if self.cfg.alerts.command:
            waits.append(2 * self.cfg.alerts.timeout)
        return float(max(waits) + 5)

    def _deliver_lane(self, target: Any, lane: list[Delivery]) -> None:
        d = self.cfg.delivery
        for item in lane:
            if self._stop.is_set():
                self.store.release_deliveries(target.name, self.name)
                return
            try:
                out = target.deliver(item, self._client)
            except Exception as exc:  # a bug in one delivery must not stop the others
                out = Outcome(False, error=one_line(f"{exc.__class__.__name__}: {exc}", 200))
            now = time.time()
            if out.ok:
                self.store.delivery_done(item, self.name, note=out.note, now=now)
                self.delivered += 1
                continue
            if out.defer_until is not None:
                self.store.delivery_deferred(item, self.name, out.defer_until, out.error)
                return
            self.failed += 1
            tries = item.attempts + 1
            if out.retry and tries < d.attempts:
                wait = backoff(tries, d.retry_first, d.retry_max, self.rng)
                if out.retry_after is not None:
                    wait = min(max(wait, out.retry_after), d.retry_max)
                self.log.info(
                    "webhooks: %s: event %s (%s) failed (%s): try %d of %d in %.0f s",
                    target.label,
                    item.uid,
                    item.event,
                    out.error,
                    tries + 1,
                    d.attempts,
                    wait,
                )
                self.store.delivery_failed(item, self.name, out.error, retry_at=now + wait, now=now)
                return  # the lane waits for it: order per account
            self.log.warning(
                "webhooks: %s: event %s (%s) is a dead letter after %d attempt(s): %s",
                target.label,
                item.uid,
                item.event,
                tries,
                out.error,
            )
            self.store.delivery_failed(item, self.name, out.error, retry_at=None, now=now)

    # ------------------------------------------------------------------ published
    def status(self) -> dict[str, Any]:
        """For the supervisor's published state: per target, waiting and dead letters."""
        return {
            "targets": {
                name: {k: v for k, v in doc.items() if k in ("label", "pending", "dead", "oldest", "last_error")}
                for name, doc in self.summary.items()
                if any(t.name == name for t in self.targets)
            },
            "delivered": self.delivered,
            "failed": self.failed,
        }
