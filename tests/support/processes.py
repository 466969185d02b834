"""The one way the tests run a supervisor: `Supervised`, a context manager around a real
`python tui.py worker` (or `python -m supervisor`) process, its output in a file, its
published state (`run/supervisor.json`) at hand, and nothing of it left running when the
test ends, however it ends.

    with Supervised(cfg_path, tmp_path / "supervisor.out") as sup:
        sup.wait(lambda st: st.get("state") == "running", 60, "running")
        ...
        assert sup.stop() == 0          # SIGTERM, and the exit status

`spawn_worker` starts a bare `python -m worker` (in its own session, so that the test can
SIGKILL its whole group: the worker, chromedriver and Chromium)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import psutil

import settings
from supervisor import pidfile
from tests.support.paths import PY, ROOT
from tests.support.waiting import wait_until


class Supervised:
    """A supervisor process of a test.

    `entry`: "tui" (`python tui.py worker`, what a user types) or "module"
    (`python -m supervisor`). `env`: variables added to the environment (a host name, a
    fake worker command). `out`: where stdout and stderr go (appended: a supervisor started
    again by the same test keeps one log). Started at once unless `start=False`."""

    def __init__(
        self,
        cfg_path: Path,
        out: Path,
        *,
        entry: str = "tui",
        env: Mapping[str, str] | None = None,
        start: bool = True,
    ) -> None:
        self.cfg_path = Path(cfg_path)
        self.out = Path(out)
        self.entry = entry
        self.env = {**os.environ, **(env or {})}
        self.cfg = settings.load(self.cfg_path)
        self.run_dir = Path(self.cfg.paths.run_dir)
        self.proc: subprocess.Popen[bytes] | None = None
        self._file: IO[bytes] | None = None
        if start:
            self.start()

    # ------------------------------------------------------------------ life
    def argv(self) -> list[str]:
        if self.entry == "tui":
            return [PY, "tui.py", "worker", "--config", str(self.cfg_path)]
        return [PY, "-m", "supervisor", "--config", str(self.cfg_path)]

    def start(self) -> Supervised:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._close()
        self._file = open(self.out, "ab")  # noqa: SIM115 (kept open while the process runs)
        self.proc = subprocess.Popen(self.argv(), cwd=ROOT, env=self.env, stdout=self._file, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 30, sig: int = signal.SIGTERM) -> int:
        """Ask it to stop (SIGTERM by default) and return its exit status."""
        if self.alive():
            self.send(sig)
        code = self.wait_exit(timeout)
        self._close()
        return code

    def kill(self) -> None:
        """SIGKILL the supervisor alone (its workers are left to notice)."""
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)
        self._close()

    def vanish(self) -> None:
        """The host is gone at once: the supervisor and every process under it SIGKILLed."""
        assert self.proc is not None
        try:
            top = psutil.Process(self.proc.pid)
            procs = [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        for p in procs:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=10)
        self.proc.wait(10)
        self._close()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Supervised:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Whatever happened: SIGTERM, a minute for a graceful stop, then SIGKILL."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close()

    # ------------------------------------------------------------------ what it says
    def state(self) -> dict[str, Any]:
        """Its published state (`run/supervisor.json`), {} before the first one."""
        return pidfile.read_json(self.run_dir / "supervisor.json") or {}

    def log(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def wait(self, pred: Callable[[dict[str, Any]], Any], timeout: float = 10.0, what: str = "") -> dict[str, Any]:
        """Wait until its published state satisfies `pred`; fail at once if it exits."""

        def ok() -> dict[str, Any] | None:
            st = self.state()
            return st if st and pred(st) else None

        return wait_until(
            ok,
            timeout,
            what or "the supervisor's state",
            proc=self.proc,
            seen=lambda: f"state {self.state()}\n{self.log()[-3000:]}",
        )

    def worker_pid(self, account: str) -> int | None:
        """The pid of `account`'s worker while it runs (running or paused), else None."""
        import supervisor

        st = supervisor.status(self.cfg) or {}
        w = (st.get("workers") or {}).get(account) or {}
        return w.get("worker_pid") if w.get("state") in ("running", "paused") else None


def spawn_worker(cfg_path: Path, stderr: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """`python -m worker` on its own (no supervisor), in a new session: `os.killpg(p.pid,
    SIGKILL)` kills the worker, chromedriver and Chromium at once."""
    return subprocess.Popen(
        [PY, "-m", "worker", "--config", str(cfg_path)],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def end_worker(proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    """Stop a spawned worker if it still runs: SIGTERM, then its whole group SIGKILLed."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
