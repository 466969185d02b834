"""The HTTP API end to end: a job created over HTTP is sent by the real worker in real
headless Chromium against the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import settings
from tests.support.api import Server, free_port
from tests.support.config import write_config
from tests.support.waiting import wait_until
from tests.support.workers import WorkerThread


@pytest.mark.browser
def test_a_job_created_over_http_is_sent_by_the_worker(sim: Any, tmp_path: Path) -> None:
    port = free_port()
    cfg_path = write_config(
        tmp_path,
        sim,
        api__port=port,
        api__token_file=str(tmp_path / "token"),
        api__upload_dir=str(tmp_path / "uploads"),
    )
    server = Server(cfg_path, port)
    try:
        numbers = ["+14155550120", "+14155550121", "+14155550122"]
        r = server.client.post(
            "/send",
            files={"file": ("people.csv", ("phone,name\n" + "".join(f"{n},P{i}\n" for i, n in enumerate(numbers))))},
            data={"template": "Hello {name}, over HTTP"},
        )
        assert r.status_code == 201, r.text
        job = r.json()["job_id"]
        w = WorkerThread(settings.load(cfg_path)).start()
        try:
            wait_until(
                lambda: server.client.get(f"/status/{job}").json()["counts"]["sent"] == 3, 90, "3 sent over HTTP"
            )
        finally:
            w.stop()
        texts = sorted(m["text"] for m in sim.ledger()["messages"])
        assert texts == ["Hello P0, over HTTP", "Hello P1, over HTTP", "Hello P2, over HTTP"]
        assert server.client.get(f"/status/{job}").json()["status"] == "completed"
    finally:
        server.stop()
