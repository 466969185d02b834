"""Headless Chromium for the tests: a Selenium driver on Debian's chromium/chromedriver
(never downloads anything), and the processes a test's browsers left behind."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psutil

from common.runfiles import RUN_DIR_VAR, TAG_VAR
from supervisor.proctree import tagged

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"


def make_browser(profile_dir: str | Path) -> Any:
    """A headless Chromium driven by Selenium, with the given profile directory."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1280,900",
        "--log-level=3",  # as the worker's (worker/browser.py): no INFO lines nobody reads
        f"--user-data-dir={profile_dir}",
        f"--user-agent={USER_AGENT}",
    ):
        opts.add_argument(arg)
    # A busy machine sometimes drops chromedriver's first connection: try twice.
    for attempt in (1, 2):
        try:
            driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
        except Exception:
            if attempt == 2:
                raise
            time.sleep(0.5)
        else:
            driver.set_page_load_timeout(30)
            return driver
    raise AssertionError("unreachable")


def name_of(p: psutil.Process) -> str:
    """A process's name, or "" once it has exited: Chromium's helpers come and go while a
    test lists them."""
    try:
        return p.name()
    except psutil.Error:
        return ""


def is_browser(p: psutil.Process) -> bool:
    """Chromium or chromedriver, alive (a zombie is gone already, only not reaped)."""
    try:
        return "chrom" in p.name().lower() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def our_browser_procs(tmp: Path) -> dict[int, str]:
    """Chromium/chromedriver processes started by this test: descendants of this process
    (pytest, or its xdist worker), or using a profile under the test's `tmp`, and their
    descendants."""
    roots: list[psutil.Process] = []
    try:
        roots += psutil.Process().children(recursive=True)
    except psutil.Error:
        pass
    for p in psutil.process_iter(["cmdline", "name"]):
        try:
            # The tmux server keeps the command line of the client that started it: a test's
            # path there does not make every other test's tmux session this test's.
            if (p.info["name"] or "").startswith("tmux"):
                continue
            if str(tmp) in " ".join(p.info["cmdline"] or []):
                roots.append(p)
                roots += p.children(recursive=True)
        except psutil.Error:
            pass
    out: dict[int, str] = {}
    for p in roots:
        try:
            if is_browser(p):
                out[p.pid] = " ".join(p.cmdline())[:120]
        except psutil.Error:
            pass
    return out


def origin(pid: int) -> str:
    """Where a leftover process came from: its ancestors' pids and commands, its age and
    the run folder and worker tags it carries (a leak's report names its source)."""
    try:
        p = psutil.Process(pid)
        env = p.environ()
        parts = [
            f"age {time.time() - p.create_time():.1f} s",
            f"run dir {env.get(RUN_DIR_VAR, '-')}",
            f"tag {env.get(TAG_VAR, '-')}",
        ]
        for a in p.parents()[:4]:
            parts.append(f"< {a.pid} {' '.join(a.cmdline())[:90]}")
    except psutil.Error as exc:
        return f"({exc.__class__.__name__})"
    return "; ".join(parts)


def browsers_of_run(tmp: Path, run_dir: Path | None = None) -> list[psutil.Process]:
    """Chromium/chromedriver started for a supervised test: carrying its run folder's tag
    or a path under `tmp` on their command line."""
    run_dir = run_dir or tmp / "run"
    found = {p for p in tagged(RUN_DIR_VAR, str(run_dir)) if is_browser(p)}
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            if "chrom" in (p.info["name"] or "") and str(tmp) in " ".join(p.info["cmdline"] or []) and is_browser(p):
                found.add(p)
        except psutil.Error:
            pass
    return sorted(found, key=lambda p: p.pid)


def browser_main(worker_pid: int) -> psutil.Process | None:
    """The Chromium browser process (not a helper: no --type=) under a worker."""
    try:
        for p in psutil.Process(worker_pid).children(recursive=True):
            if (
                "chrom" in p.name()
                and "driver" not in p.name()
                and not any(a.startswith("--type=") for a in p.cmdline())
            ):
                return p
    except psutil.Error:
        pass
    return None


def leftovers(run_dir: Path) -> list[tuple[int, str]]:
    """Every process still carrying a run folder's tag (the supervisor's workers and browsers)."""
    out = []
    for p in tagged(RUN_DIR_VAR, str(run_dir)):
        try:
            out.append((p.pid, p.name()))
        except psutil.Error:
            pass
    return out
