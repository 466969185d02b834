"""Several WhatsApp accounts on one simulator: each worker's QR scanned with its own
phone, a message in doubt (clicked, on the server, not yet confirmed), a worker killed."""

from __future__ import annotations

import collections
import os
import signal
import time
from collections.abc import Mapping
from typing import Any

from simulator import Simulator
from store import Store
from tests.support.processes import Supervised
from tests.support.waiting import wait_until


def scan_waiting(sim: Simulator, store: Store, numbers: Mapping[str, str]) -> set[str]:
    """Scan, with its own phone, the QR of every account whose worker shows one."""
    done = set()
    for row in store.workers():
        acc = row.get("account")
        if acc in numbers and row.get("qr") and row.get("state") == "waiting_for_login":
            try:
                sim.scan(row["qr"], numbers[acc])
                done.add(acc)
            except Exception:  # the code rotated since the row was written
                pass
    return done


def log_in(sim: Simulator, store: Store, numbers: Mapping[str, str], timeout: float = 60) -> None:
    """Every account of `numbers` scanned, and its worker sees the login."""
    left = set(numbers)

    def all_scanned() -> bool:
        left.difference_update(scan_waiting(sim, store, {n: numbers[n] for n in left}))
        return not left

    wait_until(all_scanned, timeout, "a QR to scan for every account", interval=0.1, seen=lambda: sorted(left))
    wait_until(
        lambda: all((store.account(n) or {}).get("login") == "logged_in" for n in numbers),
        timeout,
        "the workers see their login",
    )


def ledger_accounts(sim: Simulator) -> collections.Counter[str]:
    return collections.Counter(m["account"] for m in sim.ledger()["messages"])


def in_doubt(sim: Simulator, store: Store, account: str, number: str) -> Any:
    """A message `account` clicked that the server has, still unconfirmed in the store."""
    in_ledger = {m["phone"] for m in sim.ledger()["messages"] if m["account"] == number}
    for r in store.in_flight(account=account):
        if r["clicked_at"] and r["phone"] in in_ledger:
            return r
    return None


def sigkill_worker(sup: Supervised, account: str, timeout: float = 60, jitter: float = 0.0) -> int:
    """SIGKILL `account`'s running worker (`jitter` seconds after it is found running) and
    wait until the supervisor replaced it; returns the killed pid."""
    deadline = time.monotonic() + timeout
    while True:
        pid = wait_until(lambda: sup.worker_pid(account), timeout, f"a running worker of {account}")
        time.sleep(jitter)
        try:
            os.kill(pid, signal.SIGKILL)
            break
        except ProcessLookupError:  # it left meanwhile (a restart): kill the next one
            assert time.monotonic() < deadline, f"no worker of {account} to kill"
    wait_until(lambda: sup.worker_pid(account) != pid, timeout, f"{account}'s worker replaced")
    return pid
