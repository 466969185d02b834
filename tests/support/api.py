"""The HTTP API served as a user runs it (`python tui.py serve` as a subprocess), and a
free port on 127.0.0.1 for it."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.paths import PY, ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def minimal_config(tmp: Path, db: str | Path, port: int, **api: Any) -> Path:
    lines = [
        "[paths]",
        f'database = "{db}"',
        f'run_dir = "{tmp / "run"}"',
        f'log_dir = "{tmp / "logs"}"',
        "[api]",
        f"port = {port}",
        f'token_file = "{tmp / "token"}"',
        f'upload_dir = "{tmp / "uploads"}"',
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in api.items()]
    path = tmp / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class Server:
    def __init__(self, config: Path, port: int, *extra: str) -> None:
        self.config = config
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [PY, str(ROOT / "tui.py"), "--config", str(config), "serve", *extra],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out = self.proc.communicate()[0] if self.proc.poll() is not None else ""
                raise AssertionError(f"serve did not start: {out}")
            time.sleep(0.1)
        self.token = (config.parent / "token").read_text().strip()
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        self.anon = httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> None:
        self.client.close()
        self.anon.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
