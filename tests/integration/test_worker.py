"""`python -m worker` as a user runs it, when it cannot start: a missing browser or driver,
a bad config: one clear line, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import settings
from tests.support.paths import PY, ROOT
from worker.browser import UserError, check_paths


def test_missing_browser_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(
        f'[paths]\ndatabase = "{tmp_path}/db.sqlite"\nrun_dir = "{tmp_path}/run"\nlog_dir = "{tmp_path}/logs"\n'
        f'[browser]\nbinary = "{tmp_path}/no-chromium"\nprofile_dir = "{tmp_path}/p"\n'
    )
    with pytest.raises(UserError, match=r"chromium not found at .*apt-get install chromium chromium-driver"):
        check_paths(settings.load(cfg_path).browser)
    proc = subprocess.run(
        [PY, "-m", "worker", "--config", str(cfg_path)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no-chromium" in lines[0] and "apt-get install" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    # A missing driver names the driver.
    cfg_path.write_text(
        cfg_path.read_text().replace(f'binary = "{tmp_path}/no-chromium"', f'driver = "{tmp_path}/no-driver"')
    )
    with pytest.raises(UserError, match="chromedriver not found"):
        check_paths(settings.load(cfg_path).browser)


def test_bad_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[sending]\ndelay_min = 'x'\n")
    proc = subprocess.run(
        [PY, "-m", "worker", "--config", str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "delay_min" in proc.stderr and "Traceback" not in proc.stderr
