"""A throw-away PostgreSQL cluster: `initdb` + `pg_ctl` in a temporary folder, listening
on 127.0.0.1 at a free port and on a unix socket in that folder; run as the unprivileged
`postgres` user when we are root (PostgreSQL refuses to run as root). Used by the tests
and by `bench/bench_store.py --backend postgresql`."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class NoPostgres(RuntimeError):
    pass


def bin_dir() -> Path:
    """Debian's versioned folder (/usr/lib/postgresql/N/bin), else `initdb` on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise NoPostgres("PostgreSQL is not installed: `make test` installs Debian's postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, *, durable: bool = False) -> None:
        """`durable`: fsync every commit, as a production server does (the benchmark);
        the tests run without (a throw-away cluster has nothing to keep)."""
        self.durable = durable
        self.bin = bin_dir()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="wa-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.created: list[str] = []
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, cwd="/")

    def start(self) -> Cluster:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        # The free port was free when we looked; another process (tests run in parallel)
        # may take it before the server binds it: then try another one.
        for attempt in range(3):
            opts = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                "-c max_connections=200 -c shared_buffers=256MB"
            )
            if not self.durable:
                opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            log = str(self.root / "log")
            started = self._run(
                "pg_ctl", "-D", str(self.data), "-o", opts, "-l", log, "-w", "-t", "60", "start", check=attempt == 2
            )
            if started.returncode == 0:
                break
            self.port = _free_port()
        return self

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def create_db(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url(name)

    def fresh_db(self, prefix: str = "t") -> str:
        return self.create_db(f"{prefix}_{os.getpid()}_{time.monotonic_ns()}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
