"""`python tui.py demo`: the whole flow against the simulator, without a phone.

Creates a throw-away directory (database, profile, run, logs), starts the WhatsApp
Web simulator in its own process (it logs in by itself after AUTO_LOGIN seconds on the
QR page, or at once when Enter/L is pressed in the QR modal, "as if scanned"), writes
a demo config.toml pointing at it (short delays, no long pause), writes a sample
contacts file of 10 rows and imports it as a job, starts the supervised worker
detached and opens the dashboard.

Quitting asks: stop everything and delete the demo files (y), or leave the worker
and the simulator running in the background (n), as the normal dashboard does. Closing
the terminal (SIGHUP) or SIGTERM, at any moment, stops everything the demo started.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from .stopsignals import StopSignals, say

if TYPE_CHECKING:
    import settings
    from store import Store
    from supervisor.proctree import Tree

PROJECT_DIR = Path(__file__).resolve().parent.parent
AUTO_LOGIN = 8.0
SAMPLE = [
    ("Asha Sharma", "+1 415 555 0101", "Pune"),
    ("Ravi Patel", "+1 415 555 0102", "Goa"),
    ("Priya Iyer", "+1 415 555 0103", "Chennai"),
    ("Arjun Khan", "+1 415 555 0104", "Delhi"),
    ("Meera Singh", "+1 415 555 0105", "Mumbai"),
    ("Vikram Reddy", "+1 415 555 0106", "Kolkata"),
    ("Sara Das", "+1 415 555 0107", "Bengaluru"),
    ("Li Nair", "+1 415 555 0108", "Pune"),
    ("Omar Müller", "+1 415 555 0109", "Goa"),
    ("Fatima García", "+1 415 555 0110", "Delhi"),
]
TEMPLATE = "{Hi|Hello} {First}, this is the demo message for {City}."

DEMO_CONFIG = """\
# Demo configuration written by `python tui.py demo` (a throw-away directory).
[paths]
database = "data/demo.db"
run_dir = "run"
log_dir = "logs"

[browser]
profile_dir = "profile"
headless = true
whatsapp_url = "{url}"
boot_timeout = 60

[sending]
default_region = "US"
# Short delays so the demo finishes in a minute.
delay_min = 0.5
delay_max = 1.5
# No long pause in the demo.
long_pause_every = 0
retry_backoff = 2.0

[supervisor]
backoff_initial = 1.0
start_seconds = 3.0
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_contacts(path: Path) -> Path:
    lines = ["First,Last,Phone,City"]
    for name, phone, city in SAMPLE:
        first, last = name.split(" ", 1)
        lines.append(f"{first},{last},{phone},{city}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Demo:
    """The demo's pieces; `login()` is what the QR modal calls in demo mode."""

    def __init__(self, root: Path | None = None, *, auto_login: float = AUTO_LOGIN) -> None:
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="wa-demo-"))
        self.auto_login = auto_login
        self.sim_proc: subprocess.Popen[bytes] | None = None
        # Each pinned by its start time when started: a pid reused later is not theirs.
        self.sim_tree: Tree | None = None
        self.supervisor_tree: Tree | None = None
        self.url = ""
        self.config_path = self.root / "config.toml"
        self.contacts = self.root / "demo-contacts.csv"
        self.supervisor_pid: int | None = None
        self.cfg: settings.Config | None = None  # set by write_config
        self.ctx: settings.RunContext | None = None

    # ------------------------------------------------------------------ setting up
    def start_simulator(self) -> None:
        """Start the WhatsApp Web simulator on a free port (its own session, logging to
        logs/simulator.log) and wait until it answers."""
        from supervisor.proctree import Tree

        port = free_port()
        cmd = [
            sys.executable,
            str(PROJECT_DIR / "tui.py"),
            "simulator",
            "--port",
            str(port),
            "--boot-time",
            "1",
            "--auto-login",
            str(self.auto_login),
        ]
        with open(self.root / "logs" / "simulator.log", "ab") as log:  # the child keeps its own copy
            self.sim_proc = subprocess.Popen(
                cmd, cwd=PROJECT_DIR, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        self.sim_tree = Tree(self.sim_proc.pid)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/__sim__/state", timeout=1).read()
                return
            except OSError:
                if self.sim_proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"the simulator did not start (see {self.root / 'logs' / 'simulator.log'})")

    def write_config(self) -> settings.Config:
        import settings

        self.config_path.write_text(DEMO_CONFIG.replace("{url}", self.url), encoding="utf-8")
        self.ctx = settings.resolve(self.config_path)
        self.cfg = self.ctx.cfg
        return self.cfg

    def import_contacts(self, store: Store) -> int:
        from contacts import plan_import
        from jobs.importing import create_job_from_plan

        write_contacts(self.contacts)
        plan = plan_import(self.contacts, TEMPLATE, region="US", optouts=store.optout_set(), seed=1)
        return create_job_from_plan(store, plan, name="demo", template=TEMPLATE, source_file=self.contacts)

    def start_worker(self) -> int | None:
        import supervisor
        from supervisor.proctree import Tree

        self.supervisor_pid = supervisor.start_detached(self.ctx)
        self.supervisor_tree = Tree(self.supervisor_pid)
        return self.supervisor_pid

    def setup(self) -> Store:
        """The demo's folders, the simulator, its config and a job of sample contacts;
        returns the store it wrote the job into."""
        from store import Store

        for sub in ("data", "run", "logs", "profile"):
            (self.root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        self.start_simulator()
        cfg = self.write_config()
        store = Store(cfg.paths.database)
        self.import_contacts(store)
        return store

    # ------------------------------------------------------------------ while running
    def login(self) -> None:
        """Log the simulator in, as if the QR code had been scanned."""
        req = urllib.request.Request(
            f"{self.url}/__sim__/login", data=b"{}", method="POST", headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(req, timeout=5).read()

    # ------------------------------------------------------------------ tearing down
    def shutdown(self) -> None:
        """Stop the worker through its supervisor (Chromium closes cleanly), then whatever
        is left of the supervisor's and the simulator's process trees; delete the files."""
        import supervisor

        trees = [t for t in (self.supervisor_tree, self.sim_tree) if t is not None]
        for tree in trees:
            # Now: what a dying supervisor fails to stop is re-parented, no longer found from it.
            tree.refresh()
        if self.cfg is not None:
            try:
                supervisor.stop(self.cfg, timeout=30)
            except Exception as exc:
                say(f"demo: could not stop the worker: {exc}", err=True)
        for tree in trees:
            for p in tree.stop(timeout=10):
                say(f"demo: process {p.pid} does not stop", err=True)
        if self.cfg is not None:
            # A worker's browser that a dying worker left re-parented (found from no tree)
            # still carries the run folder's tag in its environment: with no supervisor
            # left, `stop` kills whatever carries it.
            try:
                supervisor.stop(self.cfg, timeout=10)
            except Exception as exc:
                say(f"demo: could not stop the worker's browser: {exc}", err=True)
        if self.sim_proc is not None:
            try:
                self.sim_proc.wait(1)  # reap it
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def describe(self) -> dict[str, str | int | None]:
        return {
            "root": str(self.root),
            "config": str(self.config_path),
            "simulator": self.url,
            "simulator_pid": self.sim_proc.pid if self.sim_proc else None,
            "supervisor_pid": self.supervisor_pid,
        }


def run_demo(root: str | Path | None = None, *, auto_login: float = AUTO_LOGIN) -> int:
    """Set everything up, run the dashboard, then stop or keep the demo as the user chose.

    SIGHUP and SIGTERM are held for the whole run, the stopping included: during the
    set-up they skip the dashboard, in it they quit it, and then everything is stopped."""
    from .app import WaSenderApp

    demo = Demo(Path(root) if root else None, auto_login=auto_login)
    with StopSignals() as stop:
        try:
            store = demo.setup()
            try:
                demo.start_worker()
            except Exception as exc:  # the dashboard still opens; `w` can try again
                say(f"demo: the worker did not start: {exc}", err=True)
            (demo.root / "demo.json").write_text(json.dumps(demo.describe(), indent=2))
            assert demo.ctx is not None  # setup() wrote the config
            app = WaSenderApp(demo.ctx, store=store, demo=demo)
            stop.then(app.leave_soon)
            if stop.received is None:
                app.run()
        except BaseException:
            demo.shutdown()
            raise
        if not app.keep_worker:
            demo.shutdown()
            say("Demo stopped; its files are deleted.")
            return int(app.return_code or 0)
    say(
        f"The demo keeps running in the background: worker (supervisor pid {demo.supervisor_pid}), "
        f"simulator {demo.url} (pid {demo.sim_proc.pid if demo.sim_proc else '-'}), files in {demo.root}.\n"
        f"Watch it: python tui.py --config {demo.config_path}   Stop it: press w there, then "
        f"kill {demo.sim_proc.pid if demo.sim_proc else ''}"
    )
    return int(app.return_code or 0)
