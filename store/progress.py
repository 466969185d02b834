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


def eta_seconds(sent_times: Sequence[float], remaining: int) -> float | None:
    """Seconds left at the pace of the newest send times (newest first); None without a pace."""
    if remaining <= 0 or len(sent_times) < 2 or sent_times[0] <= sent_times[-1]:
        return None
    return remaining * (sent_times[0] - sent_times[-1]) / (len(sent_times) - 1)
