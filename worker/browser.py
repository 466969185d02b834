"""Starting Chromium through Selenium with the persistent profile from the config."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import psutil
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

log = logging.getLogger("worker")

INSTALL_HINT = "install it with `apt-get install chromium chromium-driver`"


class UserError(Exception):
    """A problem the user fixes (missing browser, bad config): shown as one line, exit 2."""


def check_paths(browser_cfg: Any) -> None:
    binary, driver = Path(browser_cfg.binary), Path(browser_cfg.driver)
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise UserError(f"chromium not found at {binary}: {INSTALL_HINT} "
                        "(or set browser.binary in config.toml)")
    if not (driver.is_file() and os.access(driver, os.X_OK)):
        raise UserError(f"chromedriver not found at {driver}: {INSTALL_HINT} "
                        "(or set browser.driver in config.toml)")


def prepare_profile(profile_dir: Path) -> None:
    """Create the profile with mode 0700 and drop a lock left behind by a killed Chrome."""
    profile_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(profile_dir, 0o700)
    lock = profile_dir / "SingletonLock"
    if lock.is_symlink() or lock.exists():
        target = os.readlink(lock) if lock.is_symlink() else ""
        pid = target.rsplit("-", 1)[-1] if "-" in target else ""
        alive = False
        if pid.isdigit():
            try:
                proc = psutil.Process(int(pid))
                alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE \
                    and "chrom" in proc.name().lower()
            except psutil.Error:
                alive = False
        if alive:
            raise UserError(f"the Chrome profile {profile_dir} is in use by a running browser (pid {pid}); "
                            "stop it or use another browser.profile_dir")
        for name in ("SingletonLock", "SingletonSocket", "SingletonCookie"):
            try:
                (profile_dir / name).unlink()
            except FileNotFoundError:
                pass
        log.info("removed a stale Chrome profile lock (%s)", target or "no pid")


def chrome_options(browser_cfg: Any) -> Options:
    opts = Options()
    opts.binary_location = str(browser_cfg.binary)
    opts.add_argument(f"--user-data-dir={Path(browser_cfg.profile_dir).resolve()}")
    if browser_cfg.headless:
        opts.add_argument("--headless=new")
    opts.add_argument(f"--user-agent={browser_cfg.user_agent}")
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")
    for arg in ("--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--window-size=1280,900", "--disable-features=Translate",
                "--password-store=basic"):
        opts.add_argument(arg)
    # A page that asks "leave this page?" must never block a navigation.
    opts.set_capability("unhandledPromptBehavior", "accept")
    opts.page_load_strategy = "normal"
    return opts


def _ua_metadata(user_agent: str) -> dict[str, Any]:
    """Client hints matching the configured user agent (headless Chromium would say HeadlessChrome)."""
    import re

    m = re.search(r"Chrome/(\d+)(?:\.[\d.]+)?", user_agent)
    major = m.group(1) if m else "142"
    full = m.group(0).split("/", 1)[1] if m else "142.0.0.0"
    brands = [{"brand": "Not_A Brand", "version": "99"}, {"brand": "Google Chrome", "version": major},
              {"brand": "Chromium", "version": major}]
    platform = "Linux" if "Linux" in user_agent else ("Windows" if "Windows" in user_agent else "macOS")
    return {"brands": brands, "fullVersion": full, "platform": platform, "platformVersion": "",
            "architecture": "x86", "model": "", "mobile": False}


def start_browser(browser_cfg: Any) -> tuple[webdriver.Chrome, Service]:
    check_paths(browser_cfg)
    prepare_profile(Path(browser_cfg.profile_dir))
    # An explicit driver path: Selenium Manager never downloads anything.
    service = Service(executable_path=str(browser_cfg.driver), log_output=os.devnull)
    driver = webdriver.Chrome(service=service, options=chrome_options(browser_cfg))
    try:
        driver.execute_cdp_cmd("Emulation.setUserAgentOverride", {
            "userAgent": browser_cfg.user_agent,
            "userAgentMetadata": _ua_metadata(browser_cfg.user_agent),
        })
    except Exception as exc:  # not fatal: --user-agent already covers navigator.userAgent
        log.warning("could not set user agent client hints: %s", exc)
    return driver, service


def browser_pids(service: Service | None) -> list[int]:
    """chromedriver's pid and all its descendants (Chromium and its helpers)."""
    proc = getattr(service, "process", None) if service is not None else None
    if proc is None or proc.poll() is not None:
        return []
    pids = [proc.pid]
    try:
        pids += [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    except psutil.Error:
        pass
    return pids


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
