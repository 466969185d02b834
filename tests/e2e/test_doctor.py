"""The selector doctor against the simulator: on each DOM generation, a config whose
selectors were written for the other generation is repaired by `python tui.py doctor
--write`, after which the worker sends a job exactly once; the doctor itself never sends
anything (the ledger says so), lends and gives back a running worker's browser, works on
a page the worker saved, and fits an 80-column terminal."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import settings
from simulator import Simulator
from simulator.server import DOMS
from store import Store
from tests.support.cli import tui
from tests.support.config import SUPERVISED, write_config
from tests.support.exactly_once import assert_exactly_once
from tests.support.paths import PY, ROOT
from tests.support.processes import Supervised
from tests.support.waiting import wait_until
from tests.support.workers import WorkerThread, worker_row

# Selectors as they were written for one generation only (each matches nothing, or the
# wrong thing, on the other).
FOR_ONE = {
    "2024": {
        "invalid_popup": ["xpath://div[@data-animate-modal-popup='true'][@role='dialog'][contains(., 'invalid')]"],
        "popup_ok": ["xpath://div[@data-animate-modal-popup='true'][@role='dialog']//button[normalize-space()='OK']"],
        "compose_box": ["#main footer div.compose-box[contenteditable='true'][title='Type a message']"],
        "send_button": ["#main footer button[aria-label='Send']"],
        "attach_button": ["#main footer div[role='button'][title='Attach']"],
        "outgoing_message": ["#main div.message-out"],
        "media_input": ["input[type='file'][accept='image/*,video/mp4,video/3gpp,video/quicktime']"],
        "caption_box": ["div[contenteditable='true'][role='textbox'][aria-placeholder='Add a caption']"],
    },
    "2026": {
        "invalid_popup": ["xpath://div[@role='dialog']/div[@data-animate-modal-popup='true'][contains(., 'invalid')]"],
        "popup_ok": [
            "xpath://div[@role='dialog']/div[@data-animate-modal-popup='true']//button[normalize-space()='OK']"
        ],
        "compose_box": ["#main footer div[contenteditable='true'][data-lexical-editor='true']"],
        "send_button": ["#main footer div[role='button'][aria-label='Send']"],
        "attach_button": ["#main footer button[aria-label='Attach']"],
        "media_input": ["input[type='file'][accept='image/*']"],
        "caption_box": ["div[contenteditable='true'][data-lexical-editor='true'][aria-placeholder='Add a caption']"],
    },
}


def doctor(cfg_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return tui("--config", str(cfg_path), "doctor", *args)


def sim_for(dom: str) -> Simulator:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.05, dblcheck_delay=0.1, dom=dom).start()
    sim.login()
    own = sim.settings["own_number"]
    sim.seed_history(own, "a note to myself 👋", at=time.time() - 3600)
    return sim


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {k["key"]: k["status"] for k in report["keys"]}


@pytest.mark.browser
@pytest.mark.parametrize("dom", DOMS)
def test_the_doctor_repairs_a_config_written_for_the_other_generation(
    tmp_path: Path, dom: str, no_leftover_browsers: None
) -> None:
    other = "2024" if dom == "2026" else "2026"
    sim = sim_for(dom)
    try:
        cfg_path = write_config(tmp_path, sim, **{f"selectors__{k}": v for k, v in FOR_ONE[other].items()})
        before = json.loads(doctor(cfg_path, "--json").stdout)
        broken = {k for k, st in statuses(before).items() if st in ("failed", "wrong")}
        assert len(broken) >= 4, statuses(before)
        assert all(k["proposal"] for k in before["keys"] if k["key"] in broken)
        fixed = doctor(cfg_path, "--write")
        assert fixed.returncode == 0, fixed.stderr
        assert "Written:" in fixed.stdout and "nothing was sent" in fixed.stdout
        assert list(tmp_path.glob("config.toml.bak-*"))  # the old file is kept
        cfg = settings.load(cfg_path)  # still a valid config, its comments kept
        assert "# CSS selectors (or XPath" in cfg_path.read_text(encoding="utf-8")
        for key in broken:  # the winner first, the old selectors after it
            assert cfg.selectors[key][0] != FOR_ONE[other][key][0]
            assert cfg.selectors[key][-1] == FOR_ONE[other][key][0]
        after = json.loads(doctor(cfg_path, "--json").stdout)
        assert not [k for k, st in statuses(after).items() if st in ("failed", "wrong")], statuses(after)
        assert sim.ledger()["messages"] == []  # three doctor runs: nothing sent
        assert sim.ledger()["invalid_opens"] >= 3  # it did look at the invalid-number popup
        # And the worker sends with what the doctor wrote: a text and a photo, each once.
        store = Store(cfg.paths.database)
        img = tmp_path / "p.png"
        img.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
        job = store.create_job(
            "j",
            "t",
            [
                {"phone": "+12025550901", "text": "after the doctor ✅"},
                {"phone": "+12025550902", "text": "a photo 📷", "attachment": str(img)},
                {"phone": "+12025550903", "text": "the third"},
            ],
        )
        w = WorkerThread(cfg).start()
        try:
            wait_until(lambda: store.get_job(job)["status"] == "completed", 60, "completed")
        finally:
            assert w.stop() == 0
        ledger = sim.ledger()["messages"]
        assert sorted(m["text"] for m in ledger) == sorted(["after the doctor ✅", "a photo 📷", "the third"])
        assert [m["attachment"]["kind"] for m in ledger if m["attachment"]] == ["media"]
        store.close()
    finally:
        sim.stop()


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_the_doctor_borrows_a_running_workers_browser_and_gives_it_back(tmp_path: Path) -> None:
    sim = sim_for("2026")
    cfg_path = write_config(tmp_path, sim, preset=SUPERVISED, sending__delay_min=0.2, sending__delay_max=0.2)
    store = Store(tmp_path / "db.sqlite")
    n = 25
    job = store.create_job("j", "t", [{"phone": f"+1303557{i:04d}", "text": f"hello {i}"} for i in range(n)])
    try:
        with Supervised(cfg_path, tmp_path / "sup.out") as sup:
            wait_until(lambda: store.counts(job)["sent"] >= 3, 60, "sending")
            seen: set[str] = set()
            doc = subprocess.Popen(
                [PY, "tui.py", "--config", str(cfg_path), "doctor", "--json"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

            def doctor_done() -> bool:
                seen.add(worker_row(store)["state"])
                return doc.poll() is not None

            wait_until(doctor_done, 150, "the doctor to finish", interval=0.1)
            out, err = doc.communicate()
            assert doc.returncode == 0, err
            report = json.loads(out)
            assert statuses(report)["send_button"] == "ok" and statuses(report)["compose_box"] == "ok"
            assert "held" in seen  # the worker let go of the browser meanwhile
            wait_until(lambda: store.get_job(job)["status"] == "completed", 90, "completed after the doctor")
            assert sup.stop() == 0
    finally:
        ledger = sim.ledger()["messages"]
        sim.stop()
    # The doctor sent nothing of its own: only the job's messages, each once.
    assert_exactly_once(ledger, [f"+1303557{i:04d}" for i in range(n)])
    assert not (tmp_path / "run" / "accounts" / "default" / "hold").exists()
    store.close()


@pytest.mark.browser
def test_the_doctor_reads_a_page_the_worker_saved(tmp_path: Path, no_leftover_browsers: None) -> None:
    sim = sim_for("2026")
    try:
        cfg_path = write_config(
            tmp_path,
            sim,
            selectors__send_button=["#main footer button[aria-label='Send']"],
            sending__attention_after=1,
            heal__enabled=False,  # the stop waits for a person: the doctor reads its saved page
        )
        cfg = settings.load(cfg_path)
        store = Store(cfg.paths.database)
        store.create_job("j", "t", [{"phone": "+12025550911", "text": "once"}])
        w = WorkerThread(cfg).start()
        try:
            wait_until(lambda: worker_row(store)["state"] == "needs_attention", 40, "needs attention")
        finally:
            w.stop()
        [saved] = (Path(cfg.paths.log_dir) / "failures").glob("*send_button.html")
        # A saved page names resources of the site it came from: none may be fetched.
        hits, port = _counting_server()
        saved.write_text(
            saved.read_text(encoding="utf-8").replace(
                "</body>",
                f'<img src="http://127.0.0.1:{port}/i.png"><link rel="stylesheet" '
                f'href="http://127.0.0.1:{port}/s.css"><iframe src="http://127.0.0.1:{port}/f"></iframe>'
                "</body>",
            ),
            encoding="utf-8",
        )
        proc = doctor(cfg_path, "--page", str(saved), "--json")
        assert hits == [], hits
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        st = statuses(report)
        assert st["send_button"] == "failed" and report["source"] == str(saved)
        send = next(k for k in report["keys"] if k["key"] == "send_button")
        assert "{Send}" in send["proposal"][0] or "wds-ic-send-filled" in send["proposal"][0], send
        assert st["compose_box"] == "ok" and st["media_input"] == "not checkable"
        assert any(line.startswith("send_button = [") and send["proposal"][0] in line for line in report["toml"])
        assert len(sim.ledger()["messages"]) == 1  # the worker's one send (with Enter), nothing from the doctor
        store.close()
    finally:
        sim.stop()


def _counting_server() -> tuple[list[str], int]:
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return hits, srv.server_address[1]
