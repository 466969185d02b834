"""Small text helpers shared by the panels (pure functions, easy to test)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

SPARK = "▁▂▃▄▅▆▇█"

STATUS_STYLE = {
    "pending": "dim",
    "sending": "bold yellow",
    "sent": "green",
    "retrying": "yellow",
    "failed": "bold red",
    "invalid": "magenta",
    "skipped": "dim",
    "unknown": "bold yellow",
    "running": "bold green",
    "paused": "yellow",
    "waiting_for_login": "bold yellow",
    "completed": "green",
    "stopped": "dim",
    "starting": "yellow",
    "backoff": "yellow",
    "fatal": "bold red",
    "logged_in": "green",
    "logged_out": "bold yellow",
    "needs_attention": "bold red",
    "repairing": "bold yellow",
    "offline": "bold yellow",
    "limited_new": "bold yellow",
    "restricted": "bold red",
    "banned": "bold red",
}

SHORT_STATUS = {"waiting_for_login": "login?"}


def bar(fraction: float, width: int = 8) -> str:
    """A bar of `width` cells with eighth-block resolution, then the percentage."""
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    cells = "█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")
    return f"{cells:<{width}.{width}}".replace(" ", "·") + f" {fraction * 100:3.0f}%"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def clock(ts: float | None, now: float | None = None) -> str:
    """HH:MM:SS for today, MM-DD HH:MM for other days, '-' for none."""
    if not ts:
        return "-"
    when = datetime.fromtimestamp(ts)
    if now is not None and datetime.fromtimestamp(now).date() != when.date():
        return when.strftime("%m-%d %H:%M")
    return when.strftime("%H:%M:%S")


def number(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def compact(n: int | None) -> str:
    """At most 6 characters: 99,999 / 999.7k / 1.00M."""
    if n is None:
        return "-"
    if n < 100_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.2f}M"


def sparkline(values: Iterable[float], width: int = 12) -> str:
    vals = list(values)[-width:]
    if not vals:
        return ""
    top = max(vals) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))] for v in vals)


def one_line(text: object, width: int | None = None) -> str:
    """`text` (None: "") on one line, cut to `width` characters with an ellipsis."""
    s = "" if text is None else " ".join(str(text).split())
    if width and len(s) > width:
        return s[: width - 1] + "…"
    return s
