"""Starting Chromium through Selenium with the persistent profile from the config."""

from __future__ import annotations

import functools
import logging
import os
import platform
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import psutil
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from settings import BrowserSettings

from .errors import WorkerUserError as UserError

log = logging.getLogger("worker")

INSTALL_HINT = "install it with `apt-get install chromium chromium-driver`"


def check_paths(browser_cfg: BrowserSettings) -> None:
    binary, driver = Path(browser_cfg.binary), Path(browser_cfg.driver)
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise UserError(f"chromium not found at {binary}: {INSTALL_HINT} (or set browser.binary in config.toml)")
    if not (driver.is_file() and os.access(driver, os.X_OK)):
        raise UserError(f"chromedriver not found at {driver}: {INSTALL_HINT} (or set browser.driver in config.toml)")


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
                alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE and "chrom" in proc.name().lower()
            except psutil.Error:
                alive = False
        if alive:
            raise UserError(
                f"the Chrome profile {profile_dir} is in use by a running browser (pid {pid}); "
                "stop it or use another browser.profile_dir"
            )
        for name in ("SingletonLock", "SingletonSocket", "SingletonCookie"):
            try:
                (profile_dir / name).unlink()
            except FileNotFoundError:
                pass
        log.info("removed a stale Chrome profile lock (%s)", target or "no pid")


@functools.lru_cache(maxsize=8)
def installed_version(binary: str) -> str | None:
    """The browser's version ("156.0.8078.114") as `BINARY --version` prints it."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)\.(\d+)\.(\d+)\.(\d+)", out)
    return m.group(0) if m else None


def _platform_token() -> str:
    machine = platform.machine() or "x86_64"
    return f"X11; Linux {'x86_64' if machine in ('x86_64', 'AMD64') else machine}"


def user_agent_for(browser_cfg: BrowserSettings) -> str:
    """The user agent presented to WhatsApp: the configured one, or ("auto") the installed
    browser's own, as a headed Chrome of that version writes it (reduced form, as Chrome
    has sent since version 101): never "HeadlessChrome", never an outdated version."""
    if browser_cfg.user_agent != "auto":
        return str(browser_cfg.user_agent)
    version = installed_version(str(browser_cfg.binary))
    major = version.split(".")[0] if version else None
    if major is None:
        raise UserError(
            f"cannot tell the version of {browser_cfg.binary} (`--version` printed none): "
            "set browser.user_agent in config.toml"
        )
    return (
        f"Mozilla/5.0 ({_platform_token()}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36"
    )


# A lean browser: one account runs one Chromium, and several accounts share a machine.
# Headless Chromium 13x+ still preloads the address bar's WebUI popups (two renderers,
# ~90 MB of PSS that no page uses) and keeps a spare renderer; none of them is needed
# here, nor extensions, translation, audio, crash reports or pings (bench/README.md,
# "Accounts"). Unknown feature names are ignored by other Chromium versions.
LEAN = (
    "--disable-features=Translate,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,"
    "PreloadTopChromeWebUI,SpareRendererForSitePerProcess,MediaRouter,OptimizationHints",
    "--disable-extensions",
    "--mute-audio",
    "--no-pings",
    "--disable-breakpad",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
)


def chrome_options(browser_cfg: BrowserSettings, user_agent: str) -> Options:
    """Chromium's options: the profile, headless, the language, the user agent, and the
    flags that keep it lean and private (DevTools on a pipe, no extensions, no pings)."""
    opts = Options()
    opts.binary_location = str(browser_cfg.binary)
    opts.add_argument(f"--user-data-dir={Path(browser_cfg.profile_dir).resolve()}")
    if browser_cfg.headless:
        opts.add_argument("--headless=new")
    opts.add_argument(f"--user-agent={user_agent}")
    # One UI language: WhatsApp Web follows the browser's, and so its words and bubble
    # times are the ones the selectors and the time parser expect.
    lang = browser_cfg.language
    opts.add_argument(f"--lang={lang}")
    accept = lang if "-" not in lang else f"{lang},{lang.split('-')[0]}"
    opts.add_experimental_option("prefs", {"intl.accept_languages": accept})
    # What maintained clients do so that the page sees an ordinary browser:
    # navigator.webdriver stays false and no "controlled by automated software" switch.
    opts.add_argument("--disable-blink-features=AutomationControlled")
    # DevTools over a pipe to ChromeDriver, not a TCP port: no other local user can
    # attach to the logged-in WhatsApp tab (docs/privacy.md).
    opts.add_argument("--remote-debugging-pipe")
    opts.add_experimental_option("excludeSwitches", ["enable-automation"])
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")
    for arg in (
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1280,900",
        "--password-store=basic",
        # ChromeDriver starts Chromium logging every INFO line (--log-level=0) into its own
        # log, which goes to /dev/null: formatting and piping them cost about a tenth of the
        # CPU per message (bench/README.md). 3 = fatal only; ChromeDriver keeps ours.
        "--log-level=3",
        *LEAN,
    ):
        opts.add_argument(arg)
    # A page that asks "leave this page?" must never block a navigation.
    opts.set_capability("unhandledPromptBehavior", "accept")
    opts.page_load_strategy = "normal"
    return opts


def _ua_metadata(user_agent: str, binary: str) -> dict[str, Any]:
    """Client hints matching the user agent (headless Chromium would say HeadlessChrome)."""
    m = re.search(r"Chrome/(\d+)(?:\.[\d.]+)?", user_agent)
    major = m.group(1) if m else "0"
    full = installed_version(binary) if m else None
    if not full or not full.startswith(major + "."):
        full = f"{major}.0.0.0"
    brand = "Google Chrome" if "google-chrome" in binary or binary.endswith("/chrome") else "Chromium"
    brands = [{"brand": brand, "version": major}, {"brand": "Not_A Brand", "version": "24"}]
    if brand != "Chromium":
        brands.insert(1, {"brand": "Chromium", "version": major})
    platform_name = "Linux" if "Linux" in user_agent else ("Windows" if "Windows" in user_agent else "macOS")
    return {
        "brands": brands,
        "fullVersion": full,
        "platform": platform_name,
        "platformVersion": "",
        "architecture": "x86",
        "model": "",
        "mobile": False,
    }


class PrivateService(Service):
    """ChromeDriver under a secret URL base: it must listen on a loopback port, which any
    local user can reach; without the secret every request gets 404 (docs/privacy.md says
    what a second local user can and cannot do)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.url_base = "/" + secrets.token_hex(16)
        kwargs["service_args"] = [*kwargs.get("service_args", []), f"--url-base={self.url_base}"]
        super().__init__(*args, **kwargs)

    @property
    def service_url(self) -> str:
        return super().service_url + self.url_base

    def is_connectable(self) -> bool:
        """Ready when /status answers under the secret base (Selenium asks /status)."""
        import urllib.error
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{self.service_url}/status", timeout=1) as res:
                return bool(res.getcode() == 200)
        except (OSError, urllib.error.URLError):
            return False


def start_browser(browser_cfg: BrowserSettings) -> tuple[webdriver.Chrome, Service]:
    check_paths(browser_cfg)
    prepare_profile(Path(browser_cfg.profile_dir))
    user_agent = user_agent_for(browser_cfg)
    # An explicit driver path: Selenium Manager never downloads anything.
    service = PrivateService(executable_path=str(browser_cfg.driver), log_output=os.devnull)
    driver = webdriver.Chrome(service=service, options=chrome_options(browser_cfg, user_agent))
    try:
        driver.execute_cdp_cmd(
            "Emulation.setUserAgentOverride",
            {
                "userAgent": user_agent,
                "acceptLanguage": browser_cfg.language,
                "userAgentMetadata": _ua_metadata(user_agent, str(browser_cfg.binary)),
            },
        )
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
