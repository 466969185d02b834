"""The command line as a user runs it: `python tui.py ...` in a subprocess, and the shape
every user error must have (one line, exit status 2, no traceback)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.support.paths import PY, ROOT


def tui(*args: str, cwd: Path | str | None = ROOT, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, str(ROOT / "tui.py"), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, **kw
    )


def assert_user_error(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    """Exit status 2 and exactly one line on stderr (nothing else), naming `needle`."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0], lines[0]


def one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit status 2 and one `error: ` line of at most 310 characters (warnings about
    file modes aside) naming every needle; returns that line."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and len(lines[0]) <= 310, lines[0][:400]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
