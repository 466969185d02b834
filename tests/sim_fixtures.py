"""Pytest fixtures for the WhatsApp Web simulator and a headless Chromium.

Registered in tests/conftest.py with ``pytest_plugins = ["tests.sim_fixtures"]``.
``simulator``: a fresh Simulator on a free port (fast boot and acks).
``browser``: a Selenium Chrome driver on Debian's chromium/chromedriver (never
downloads anything), headless, with a fresh profile; quit at teardown.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator

import pytest

from simulator import Simulator
from simulator.server import DOMS

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"


def make_browser(profile_dir: str):
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
        f"--user-data-dir={profile_dir}",
        f"--user-agent={USER_AGENT}",
    ):
        opts.add_argument(arg)
    # A busy machine sometimes drops chromedriver's first connection: try twice.
    for attempt in (1, 2):
        try:
            return webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
        except Exception:
            if attempt == 2:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(params=DOMS)
def sim_each(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """The simulator in each DOM generation, logged in."""
    s = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, dom=request.param)
    s.start()
    s.login()
    yield s
    s.stop()


@pytest.fixture
def browser() -> Iterator[object]:
    profile = tempfile.mkdtemp(prefix="sim-chrome-")
    driver = make_browser(profile)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
