"""GET /metrics: Prometheus' text format. Messages sent, failed, invalid and unknown per
account, the queue (pending and retrying messages of live jobs), jobs by status, each
account's login and worker state, the supervisor's programs, and the webhooks' outbox."""

from __future__ import annotations

from typing import Any

CACHE_SECONDS = 5.0  # a scrape every few seconds reads the database at most this often
LIVE = ("running", "paused", "waiting_for_login", "pending")


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render(store: Any, sup: dict[str, Any] | None) -> str:
    """The Prometheus text of /metrics: messages by status per account, queue depth, worker
    and account states, webhook backlog."""
    out: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: list[tuple[dict[str, Any], float]]) -> None:
        out.append(f"# HELP {name} {help_}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            out.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")

    by_account = store.counts_by_account()
    metric(
        "wa_messages",
        "gauge",
        "Messages by the account that claimed them and their status (sent, failed, invalid, unknown).",
        [
            ({"account": acc, "status": st}, n)
            for acc, counts in sorted(by_account.items())
            for st, n in sorted(counts.items())
        ],
    )
    jobs = store.jobs()
    depth = sum(j.counts.get("pending", 0) + j.counts.get("retrying", 0) for j in jobs if j.status in LIVE)
    metric("wa_queue_depth", "gauge", "Messages waiting to be sent (pending or retrying) in live jobs.", [({}, depth)])
    statuses: dict[str, int] = {}
    for j in jobs:
        statuses[str(j.status)] = statuses.get(str(j.status), 0) + 1
    metric("wa_jobs", "gauge", "Jobs by status.", [({"status": k}, v) for k, v in sorted(statuses.items())])
    metric(
        "wa_account_logged_in",
        "gauge",
        "1 when the account's worker last saw it logged in.",
        [({"account": a.name}, 1.0 if a.login == "logged_in" else 0.0) for a in store.accounts()],
    )
    programs = dict((sup or {}).get("workers") or {})
    alive = bool(sup and sup.get("alive"))
    metric(
        "wa_worker_state",
        "gauge",
        "1 for the state the supervisor gives each account's worker (starting, running, paused, backoff, fatal, …).",
        [
            ({"account": name, "state": p.get("state") if alive else "stopped"}, 1.0)
            for name, p in sorted(programs.items())
        ],
    )
    metric("wa_supervisor_up", "gauge", "1 while this host's supervisor publishes its state.", [({}, float(alive))])
    summary = store.outbox_summary()
    metric(
        "wa_webhook_pending",
        "gauge",
        "Events waiting for delivery, per target.",
        [({"target": d["label"]}, d["pending"]) for d in summary.values()],
    )
    metric(
        "wa_webhook_dead",
        "gauge",
        "Dead letters (deliveries given up), per target.",
        [({"target": d["label"]}, d["dead"]) for d in summary.values()],
    )
    return "\n".join(out) + "\n"
