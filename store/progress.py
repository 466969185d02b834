"""How far a job is: derived from its counts and send times (shared by the CLI and the dashboard)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .states import OPEN

ETA_SAMPLES = 30  # the newest send times that make the pace of a job (CLI and dashboard)


def open_count(counts: Mapping[str, int]) -> int:
    """Messages still to send or to verify."""
    return sum(counts.get(s, 0) for s in OPEN)


def done_fraction(job: Mapping[str, Any]) -> float:
    total = job.get("total") or 0
    if not total:
        return 1.0
    return max(0.0, min(1.0, (total - open_count(job["counts"])) / total))


def eta_seconds(
    sent_times: Sequence[float], remaining: int, *, waiting: int = 0, opens_in: float | None = None
) -> float | None:
    """Seconds left at the pace of the newest send times (newest first); None without a pace.
    `waiting` of the `remaining` wait for their window, which first opens in `opens_in`
    seconds: they cannot all be sent before that plus their own time at the pace."""
    if remaining <= 0 or len(sent_times) < 2 or sent_times[0] <= sent_times[-1]:
        return None
    pace = (sent_times[0] - sent_times[-1]) / (len(sent_times) - 1)
    eta = remaining * pace
    if waiting > 0 and opens_in is not None:
        eta = max(eta, max(opens_in, 0.0) + waiting * pace)
    return eta
