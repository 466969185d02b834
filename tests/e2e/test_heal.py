"""Self-repair when WhatsApp Web changes its page (issue 17), with the shipped config.toml
on simulator builds nobody wrote selectors for (`--mutate SEED`: icon names, classes, test
ids, wrappers and where labels sit all change; texts, labels and layout do not).

Each build is applied in the middle of a job, as WhatsApp updates a running page. The
worker must then stop the line without a duplicate or a burnt message, repair itself with
one probe to the account's own chat, and finish the job with every message exactly once;
the reply reader must store every reply on the same builds. One worker (one browser) runs
all the seeds of a generation: the config is reset to the shipped one before each seed.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

import settings
from simulator import Simulator
from store import Store
from tests.support.config import write_config
from tests.support.paths import SHIPPED_CONFIG
from tests.support.waiting import wait_until
from tests.support.workers import WorkerThread, worker_row

# Fixed seeds (replayable): builds that rename icons and change rows, so the shipped
# selectors break on each. Per generation, English and Portuguese pages alternate.
SEEDS = {"2024": [(4, "en-US"), (7, "pt-BR"), (12, "en-US")], "2026": [(1, "pt-BR"), (9, "en-US"), (16, "pt-BR")]}
# The probe as configured, and as WhatsApp sends it (its emoticon turned into an emoji); a
# list item, which the 2026 page draws without its mark.
PROBE_TYPED = "- wa-sender self-check :-) ✓"
PROBE = "- wa-sender self-check \U0001f642 ✓"


def fresh_config(tmp: Path, sim: Simulator, lang: str) -> Path:
    """The shipped config (its selectors untouched), fast pacing, the page's language."""
    return write_config(
        tmp,
        sim,
        browser__language=lang,
        browser__ack_timeout=5.0,
        heal__max_probes_per_hour=20,
        heal__probe_text=PROBE_TYPED,
        sending__attention_after=3,
    )


def events(store: Store, kind: str) -> list[Any]:
    return [e for e in store.events(limit=500) if e["kind"] == kind]


def assert_each_once_and_probes_only_to_self(sim: Simulator, sent: dict[str, str]) -> None:
    own = sim.settings["own_number"]
    ledger = sim.ledger()["messages"]
    to_contacts = [(m["phone"], m["text"]) for m in ledger if m["phone"] != own]
    assert sorted(to_contacts) == sorted(sent.items()), "each contact's message exactly once"
    probes = [m for m in ledger if m["phone"] == own]
    assert all(m["text"] == PROBE for m in probes), "nothing but probes to the account's own chat"


@pytest.mark.browser
@pytest.mark.parametrize("dom", ["2024", "2026"])
def test_a_new_build_mid_job_stops_the_line_repairs_itself_and_sends_each_message_once(
    tmp_path: Path, dom: str, no_leftover_browsers: None
) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, dom=dom).start()
    sim.login()
    worker = None
    try:
        cfg_path = fresh_config(tmp_path, sim, SEEDS[dom][0][1])
        cfg = settings.load(cfg_path)
        store = Store(cfg.paths.database)
        worker = WorkerThread(cfg).start()
        sent: dict[str, str] = {}
        for n, (seed, lang) in enumerate(SEEDS[dom]):
            where = f"seed {seed} ({dom}, {lang})"
            fresh_config(tmp_path, sim, lang)  # the shipped selectors again; the worker reads them at once
            sim.configure(mutate=None, lang=lang)
            if lang != cfg.browser.language:  # another browser language: the worker restarts (75), as
                worker.thread.join(30)  # its supervisor would restart it
                assert worker.code == 75, where
                cfg = settings.load(cfg_path)
                worker = WorkerThread(cfg).start()
            texts = {f"+1202561{n}{i:03d}": f"Olá {i} da vez {n} 👋 <3" for i in range(6)}
            sent.update({p: t.replace("<3", "\u2764\ufe0f") for p, t in texts.items()})  # as WhatsApp sends it
            job = store.create_job(where, "t", [{"phone": p, "text": t} for p, t in texts.items()])
            wait_until(lambda: store.counts(job)["sent"] >= 1, 40, f"{where}: a first message sent")  # noqa: B023
            repairs_before = len(events(store, "selectors_repaired"))
            sim.configure(mutate=seed)  # WhatsApp updates the page under the running job
            wait_until(lambda: store.get_job(job)["status"] == "completed", 150, f"{where}: completed")  # noqa: B023
            counts = store.counts(job)
            assert counts["sent"] == 6 and counts["failed"] == 0 and counts["unknown"] == 0, (where, counts)
            assert store.get_attention("default") is None, where
            repaired = events(store, "selectors_repaired")[repairs_before:]
            assert repaired, f"{where}: the line stopped on the new build and repaired itself"
            assert any(e["kind"] == "needs_attention" for e in store.events(limit=500)), where
            assert_each_once_and_probes_only_to_self(sim, sent)
        # The last build's selectors are in the config file, first in their keys' lists, with
        # comments and a backup kept.
        text = cfg_path.read_text(encoding="utf-8")
        assert "# CSS selectors (or XPath" in text and list(tmp_path.glob("config.toml.bak-*"))
        settings.load(cfg_path)
        assert worker_row(store)["state"] != "needs_attention"
    finally:
        if worker is not None:
            assert worker.stop() == 0
        sim.stop()


@pytest.mark.browser
def test_replies_are_read_on_a_build_nobody_wrote_selectors_for(tmp_path: Path, no_leftover_browsers: None) -> None:
    """Chat rows, badges and a contact's bubbles without the configured marks: read by
    meaning (every reply stored once, "STOP" honoured), the keys logged and repaired."""
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, dom="2026", mutate=9).start()
    sim.login()
    worker = None
    try:
        cfg = settings.load(
            write_config(tmp_path, sim, replies__look_every=0.5, replies__budget=0.0, heal__max_probes_per_hour=20)
        )
        store = Store(cfg.paths.database)
        phones = [f"+1202562{i:04d}" for i in range(4)]
        job = store.create_job("r", "t", [{"phone": p, "text": f"oferta {i}"} for i, p in enumerate(phones)])
        worker = WorkerThread(cfg).start()
        wait_until(lambda: store.get_job(job)["status"] == "completed", 120, "completed")
        answers = {phones[0]: "STOP", phones[1]: "sim, quero!", phones[2]: "Stop!"}
        for phone, text in answers.items():
            sim.deliver(phone, text)
        wait_until(lambda: len(store.replies(job)) == 3, 60, "three replies stored")
        time.sleep(2.0)  # more looks add nothing
        replies = store.replies(job)
        assert sorted((r.phone, r.text) for r in replies) == sorted(answers.items())
        assert {o["phone"] for o in store.optouts()} == {phones[0], phones[2]}
        assert not store.replies(job, phone=phones[3])
        own = sim.settings["own_number"]
        ledger = sim.ledger()["messages"]
        assert sorted(m["phone"] for m in ledger if m["phone"] != own) == sorted(phones)  # no reply sent anything
        # No silent zero: the reply keys that missed were logged, then repaired on the live page.
        missed = " ".join(e["text"] for e in events(store, "key_failure"))
        assert "message_row" in missed or "incoming_message" in missed or "chat_list_item" in missed, missed

        def repaired() -> str:
            return " ".join(e["text"] for e in events(store, "selectors_repaired"))

        def reply_keys_repaired() -> bool:
            text = repaired()
            return "chat_list_item" in text and ("message_row" in text or "incoming_message" in text)

        # The reply keys are repaired in the contact's chat after they missed (later on a busy machine).
        wait_until(
            reply_keys_repaired,
            60,
            "the reply keys repaired",
            seen=repaired,
        )
    finally:
        if worker is not None:
            assert worker.stop() == 0
        sim.stop()


@pytest.mark.browser
def test_a_probe_that_shows_no_tick_fails_the_repair_in_one_line_and_the_line_stays_stopped(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, dom="2026").start()
    sim.login()
    worker = None
    try:
        cfg_path = write_config(tmp_path, sim, browser__ack_timeout=2.0, sending__attention_after=2)
        cfg = settings.load(cfg_path)
        store = Store(cfg.paths.database)
        sim.configure(mutate=4)  # the shipped selectors break here ...
        phones = [f"+1202563{i:04d}" for i in range(4)]
        job = store.create_job("p", "t", [{"phone": p, "text": f"hi {i}"} for i, p in enumerate(phones)])
        worker = WorkerThread(cfg).start()
        wait_until(lambda: store.get_attention("default") is not None, 60, "the line stops")
        sim.configure(stuck_clock=True)  # ... and the probe never gets its tick
        wait_until(
            lambda: ((store.get_attention("default") or {}).get("heal") or {}).get("state") == "failed",
            60,
            "the repair failed",
        )
        doc = store.get_attention("default")
        assert "no tick" in doc["heal"]["reason"] and "\n" not in doc["heal"]["reason"]
        wait_until(lambda: "self-repair failed" in (worker_row(store)["info"].get("detail") or ""), 10, "shown")
        assert worker_row(store)["state"] == "needs_attention"
        assert any("self-repair failed" in e["text"] for e in events(store, "repair_failed"))
        assert store.counts(job)["failed"] == 0 and store.counts(job)["sent"] <= 2
        own = sim.settings["own_number"]
        assert all(m["phone"] in phones or m["phone"] == own for m in sim.ledger()["messages"])
    finally:
        if worker is not None:
            assert worker.stop() == 0
        sim.stop()


def _prepend_forever(path: str, key: str, n: int) -> None:
    for i in range(n):
        settings.prepend_selectors(path, {key: [f"#main div[data-probe-{key}='{i}']"]})


def test_two_accounts_repairing_at_once_keep_each_others_writes(tmp_path: Path) -> None:
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(SHIPPED_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_prepend_forever, args=(str(cfg_path), key, 15)) for key in ("msg_ack", "send_button")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cfg = settings.load(cfg_path)
    assert cfg.selectors["msg_ack"][0] == "#main div[data-probe-msg_ack='14']"
    assert cfg.selectors["send_button"][0] == "#main div[data-probe-send_button='14']"
    assert sum(1 for s in cfg.selectors["msg_ack"] if "data-probe" in s) == 15  # none lost
    assert sum(1 for s in cfg.selectors["send_button"] if "data-probe" in s) == 15


KILL_AFTER = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08)  # fixed: a failure can be replayed


@pytest.mark.parametrize("delay", KILL_AFTER)
def test_a_repair_killed_while_writing_leaves_the_old_config_or_the_new_one_whole(tmp_path: Path, delay: float) -> None:
    cfg_path = tmp_path / "config.toml"
    shipped = SHIPPED_CONFIG.read_text(encoding="utf-8")
    cfg_path.write_text(shipped, encoding="utf-8")
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=_prepend_forever, args=(str(cfg_path), "msg_ack", 1000))
    p.start()
    time.sleep(delay)
    os.kill(p.pid, signal.SIGKILL)
    p.join(10)
    text = cfg_path.read_text(encoding="utf-8")
    cfg = settings.parse(text, cfg_path)  # whole: it loads
    written = [s for s in cfg.selectors["msg_ack"] if "data-probe" in s]
    assert text == shipped or written, f"killed after {delay} s: neither the old file nor a new one"


@pytest.mark.browser
def test_the_next_worker_finishes_a_repair_its_predecessor_was_killed_in(
    tmp_path: Path, no_leftover_browsers: None
) -> None:
    """A worker SIGKILLed during a repair leaves the stop's document saying `running`: the
    next worker starts the repair again and finishes the job, each message once."""
    sim = Simulator(port=0, boot_time=0.2, ack_delay=0.1, dblcheck_delay=0.3, dom="2026", mutate=16).start()
    sim.login()
    worker = None
    try:
        cfg = settings.load(fresh_config(tmp_path, sim, "en-US"))
        store = Store(cfg.paths.database)
        phones = [f"+1202564{i:04d}" for i in range(3)]
        job = store.create_job("k", "t", [{"phone": p, "text": f"again {i}"} for i, p in enumerate(phones)])
        store.put_attention(
            "default",
            {
                "key": "msg_ack",
                "keys": {"msg_ack": "our bubble is there", "outgoing_message": "no row"},
                "detail": "our bubble is there",
                "messages": [],
                "given_back": [],
                "since": time.time(),
                "worker": "deadhost:default:1:1",
                "selectors": {"msg_ack": list(cfg.selectors["msg_ack"])},
                "heal": {"state": "running", "reason": "", "at": time.time(), "enabled": True},
            },
        )
        worker = WorkerThread(cfg).start()
        wait_until(lambda: store.get_job(job)["status"] == "completed", 90, "completed")
        assert events(store, "selectors_repaired")
        assert store.get_attention("default") is None
        assert_each_once_and_probes_only_to_self(sim, {p: f"again {i}" for i, p in enumerate(phones)})
    finally:
        if worker is not None:
            assert worker.stop() == 0
        sim.stop()
