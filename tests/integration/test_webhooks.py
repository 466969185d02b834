"""Webhooks and the alert command: the outbox written with its change, delivered to a
local receiver (a tiny stdlib HTTP server on 127.0.0.1) that is down, slow, answers 500
or 410, then comes up: every event once per id, in order per account, signatures valid;
two deliverers on one database never deliver an event twice; the supervisor SIGKILLed in
the middle of deliveries loses nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import settings
from store import Store
from tests.support.api import free_port
from tests.support.paths import PY, ROOT
from webhooks import Deliverer, verify

SECRET = "test-secret-0123456789"


class Receiver:
    """Records what it accepts. `script`: what the next requests to /hook get ("500",
    "slow": 1 s then 503); /gone always answers 410."""

    def __init__(self, port: int, *, delay: float = 0.0) -> None:
        self.port = port
        self.delay = delay
        self.script: list[str] = []
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/gone":
                    self.send_response(410)
                    self.end_headers()
                    return
                with owner.lock:
                    action = owner.script.pop(0) if owner.script else "ok"
                if action == "slow":
                    time.sleep(1.0)
                if action != "ok":
                    with owner.lock:
                        owner.refused += 1
                    self.send_response(503 if action == "slow" else int(action))
                    self.end_headers()
                    return
                if owner.delay:
                    time.sleep(owner.delay)
                env = json.loads(body)
                with owner.lock:
                    if not verify(SECRET, dict(self.headers), body) or self.headers["Webhook-Id"] != env["id"]:
                        owner.bad_signatures += 1
                    owner.accepted.append(env)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def ids(self) -> list[str]:
        with self.lock:
            return [e["id"] for e in self.accepted]


def config(tmp: Path, db: str | Path, port: int, **extra: str) -> settings.Config:
    text = f"""
[paths]
database = "{db}"
run_dir = "{tmp / "run"}"
log_dir = "{tmp / "logs"}"
[delivery]
retry_first = 0.05
retry_max = 0.2
attempts = 40
timeout = 0.5
[[webhooks]]
url = "http://127.0.0.1:{port}/hook"
secret = "{SECRET}"
""" + "\n".join(extra.values())
    path = tmp / "config.toml"
    path.write_text(text)
    return settings.load(path)


def make_events(store: Store, accounts: list[str], per_account: int, tag: str) -> None:
    """Messages sent by several accounts, interleaved, with account states between."""
    msgs = [
        {"phone": f"+1415555{tag}{a}{i:03d}", "text": "hi"} for a in range(len(accounts)) for i in range(per_account)
    ]
    store.create_job(f"job {tag}", "hi", msgs)
    for n, acc in enumerate(accounts):
        store.register_worker(f"w-{tag}-{acc}", 1000 + n, account=acc)
        store.account_seen(acc, "logged_in")
    for _ in range(per_account):
        for acc in accounts:
            c = store.claim(f"w-{tag}-{acc}", account=acc)
            assert c is not None
            store.mark_sent(c.id, worker_id=f"w-{tag}-{acc}")
    store.account_seen(accounts[0], "logged_out")
    store.account_seen(accounts[0], "logged_in")
    store.finish_jobs()


def wanted_uids(store: Store) -> dict[str, tuple[int, str | None]]:
    """Every outbox event: uid -> (outbox id, account)."""
    return {e.uid: (e.id, e.account) for e in store.outbox_events(limit=100_000)}


def first_arrivals_in_order(accepted: list[dict[str, Any]], order: dict[str, tuple[int, str | None]]) -> None:
    seen: set[str] = set()
    last: dict[str | None, int] = {}
    for env in accepted:
        if env["id"] in seen:
            continue
        seen.add(env["id"])
        oid, account = order[env["id"]]
        assert account == env["account"]
        assert oid > last.get(account, 0), f"account {account}: event {oid} after {last.get(account)}"
        last[account] = oid


def wait_for(pred: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_the_outbox_row_is_part_of_its_change(db_target: str | Path) -> None:
    store = Store(db_target)
    store.create_job("j", "hi", [{"phone": "+14155550100", "text": "hi"}])
    store.register_worker("w", 1, account="acc")
    c = store.claim("w", account="acc")
    assert c is not None
    before = store.outbox_last_id()
    with pytest.raises(RuntimeError), store.write():
        store.mark_sent(c.id, worker_id="w")
        assert store.outbox_last_id() > before  # written inside the transaction ...
        raise RuntimeError("crash before the commit")
    assert store.outbox_last_id() == before  # ... and gone with it
    assert store.message(c.id).status == "sending"
    store.mark_sent(c.id, worker_id="w")
    (event,) = store.outbox_events(after_id=before)
    assert (event.event, event.account, event.payload["message_id"], event.payload["phone"]) == (
        "message.sent",
        "acc",
        c.id,
        "+14155550100",
    )
    store.log_event("offline", "offline: no network")  # the worker's own account, bound at registration
    store.put_attention("acc", {"key": "compose_box", "detail": "gone", "messages": [1]})
    store.add_optout("+14155550199", "asked")
    kinds = [(e.event, e.account, e.payload.get("state")) for e in store.outbox_events(after_id=before)][1:]
    assert kinds == [
        ("account.state", "acc", "offline"),
        ("account.state", "acc", "needs_attention"),
        ("contact.optout", None, None),
    ]
    store.close()


def test_each_event_once_in_order_through_a_receiver_down_slow_500_and_410(
    tmp_path: Path, db_target: str | Path
) -> None:
    port = free_port()
    gone = f'[[webhooks]]\nurl = "http://127.0.0.1:{port}/gone"\nsecret = "x"\nevents = ["job.finished"]'
    cfg = config(tmp_path, db_target, port, gone=gone)
    store = Store(db_target)
    deliverer = Deliverer(Store(db_target), cfg).start()
    receiver = Receiver(port)
    try:
        wait_for(lambda: len(store.outbox_summary()) == 2, 10, "the targets")
        make_events(store, ["a1", "a2", "a3"], 15, "1")  # the receiver is down
        time.sleep(0.5)
        receiver.script = ["500", "500", "slow", "500"]
        receiver.start()
        make_events(store, ["a1", "a2", "a3"], 15, "2")  # while it comes up
        order = wanted_uids(store)
        wait_for(lambda: set(receiver.ids()) == set(order), 60, "every event")
        wait_for(lambda: all(t["pending"] == 0 for t in store.outbox_summary().values()), 10, "nothing waiting")
    finally:
        deliverer.stop()
        receiver.stop()
    ids = receiver.ids()
    assert len(ids) == len(set(ids)) == len(order)  # once per id
    assert receiver.bad_signatures == 0 and receiver.refused == 4
    first_arrivals_in_order(receiver.accepted, order)
    events = {e["event"] for e in receiver.accepted}
    assert events == {"message.sent", "account.state", "job.finished"}
    # 410: not retried, a dead letter at once; retried by hand
    summary = {t["label"]: t for t in store.outbox_summary().values()}
    dead = store.dead_letters()
    assert summary[f"http://127.0.0.1:{port}/gone"]["dead"] == 2 == len(dead)
    # the first was tried while the receiver was down; the 410 ends it (the second's first answer)
    assert all(d.last_error == "HTTP 410 (not retried)" for d in dead) and min(d.attempts for d in dead) == 1
    assert store.dead_count() == 2 and store.retry_dead() == 2 and store.dead_count() == 0
    store.close()


def test_two_deliverers_on_one_database_deliver_each_event_once(
    tmp_path: Path, db_target: str | Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webhooks.deliverer

    monkeypatch.setattr(webhooks.deliverer, "LANES", 2)  # small claims: both deliverers get lanes
    monkeypatch.setattr(webhooks.deliverer, "BATCH", 5)
    port = free_port()
    cfg = config(tmp_path, db_target, port)
    receiver = Receiver(port, delay=0.002).start()
    store = Store(db_target)
    first = Deliverer(Store(db_target), cfg, name="host-a").start()
    second = Deliverer(Store(db_target), cfg, name="host-b").start()
    try:
        wait_for(lambda: len(store.outbox_summary()) == 1, 10, "the target")
        make_events(store, ["b1", "b2", "b3", "b4", "b5"], 20, "3")
        order = wanted_uids(store)
        wait_for(lambda: set(receiver.ids()) == set(order), 60, "every event")
        time.sleep(0.3)
    finally:
        first.stop()
        second.stop()
        receiver.stop()
    ids = receiver.ids()
    assert len(ids) == len(set(ids)) == len(order)
    first_arrivals_in_order(receiver.accepted, order)
    assert first.delivered > 0 and second.delivered > 0  # both took part
    store.close()


def test_a_supervisor_killed_in_the_middle_of_deliveries_loses_nothing(tmp_path: Path, db_target: str | Path) -> None:
    port = free_port()
    cfg = config(tmp_path, db_target, port)
    receiver = Receiver(port, delay=0.01).start()
    store = Store(db_target)
    env = dict(
        os.environ,
        WA_SENDER_WORKER_CMD=json.dumps([PY, "-c", "import time; time.sleep(600)"]),
        WA_SENDER_HOST=f"host-{tmp_path.name}",
    )
    cmd = [PY, str(ROOT / "tui.py"), "--config", str(cfg.path), "worker"]

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    sup = start()
    try:
        wait_for(lambda: len(store.outbox_summary()) == 1, 30, "the supervisor's deliverer")
        make_events(store, ["c1", "c2", "c3", "c4"], 40, "4")
        wait_for(lambda: len(receiver.ids()) >= 40, 60, "deliveries under way")
        os.kill(sup.pid, signal.SIGKILL)
        sup.wait()
        got = len(receiver.ids())
        make_events(store, ["c1", "c2", "c3", "c4"], 5, "5")  # while no supervisor runs
        order = wanted_uids(store)
        assert got < len(order)
        sup = start()
        wait_for(lambda: set(receiver.ids()) == set(order), 90, "every event after the restart")
    finally:
        sup.send_signal(signal.SIGTERM)
        try:
            sup.wait(30)
        except subprocess.TimeoutExpired:
            sup.kill()
        receiver.stop()
    ids = receiver.ids()
    assert set(ids) == set(order)
    # at least once: only the request in flight in each lane when it died may come again
    assert len(ids) - len(set(ids)) <= 4
    first_arrivals_in_order(receiver.accepted, order)
    assert receiver.bad_signatures == 0
    store.close()


def test_the_alert_command_hears_what_a_person_must_act_on(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    db = tmp_path / "db.sqlite"
    path = tmp_path / "config.toml"
    path.write_text(
        f'[paths]\ndatabase = "{db}"\nrun_dir = "{tmp_path / "run"}"\nlog_dir = "{tmp_path / "logs"}"\n'
        f"[alerts]\ncommand = \"cat >> '{out}'\"\nlogged_out_after_minutes = 0.01\n"
    )
    cfg = settings.load(path)
    store = Store(db)
    deliverer = Deliverer(Store(db), cfg).start()
    try:
        wait_for(lambda: len(store.outbox_summary()) == 1, 10, "the alert target")
        store.create_job("j", "hi", [{"phone": "+14155550100", "text": "hi"}])
        store.account_seen("kept-out", "logged_out")  # still logged out 0.6 s later: an alert
        store.account_seen("back", "logged_out")  # logged in again at once: no alert
        store.account_seen("back", "logged_in")
        store.put_attention("kept-out", {"key": "send_button", "messages": [1, 2, 3]})
        store.log_event("worker_fatal", "worker of account back is fatal: crashes", account="back")
        store.register_worker("w", 1, account="back")
        c = store.claim("w", account="back")
        assert c is not None
        store.mark_sent(c.id, worker_id="w")  # message.sent: not an alert by default
        store.finish_jobs()

        def lines() -> list[dict[str, Any]]:
            return [json.loads(x) for x in out.read_text().splitlines() if x.strip()] if out.exists() else []

        wait_for(lambda: len(lines()) >= 4, 20, "four alerts")
        time.sleep(1.0)
    finally:
        deliverer.stop()
    got = sorted((e["event"], e["account"], e["payload"].get("state")) for e in lines())
    assert got == [
        ("account.state", "kept-out", "logged_out"),
        ("account.state", "kept-out", "needs_attention"),
        ("job.finished", None, None),
        ("worker.fatal", "back", None),
    ]
    settled = store.deliveries("alerts")
    assert any(d.last_error == "not sent: the account logged in again" for d in settled)
    store.close()


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('[[webhooks]]\nurl = "ftp://example.com/x"\nsecret = "s"', "webhooks.url: webhook 1: must start with http"),
        ('[[webhooks]]\nurl = "https://"\nsecret = "s"', "names no host"),
        ('[[webhooks]]\nurl = "https://example.com/x"\nsecret = ""', "webhooks.secret: webhook 1: needs a secret"),
        ('[[webhooks]]\nurl = "https://example.com/x"', "needs a secret"),
        (
            '[[webhooks]]\nurl = "https://e.com/x"\nsecret = "s"\nevents = ["message.lost"]',
            "unknown event 'message.lost'",
        ),
        ('[[webhooks]]\nurl = "https://e.com/x"\nsecret = "s"\ncolour = 1', "webhooks.colour"),
        ('[webhooks]\nurl = "https://e.com/x"', "must be [[webhooks]] tables"),
        ('[alerts]\nevents = ["account.sleepy"]', "alerts.events: unknown event 'account.sleepy'"),
        ("[alerts]\ncommand = 3", "alerts.command"),
        ('[api]\nhost = "0.0.0.0"', "api.host"),
        ("[api]\nport = 70000", "api.port: must be at most 65535"),
        ("[delivery]\nattempts = 0", "delivery.attempts"),
    ],
)
def test_bad_settings_are_one_line(table: str, words: str) -> None:
    with pytest.raises(settings.ConfigError) as err:
        settings.parse(table + "\n", Path("/cfg/config.toml"))
    text = str(err.value)
    assert words in text and "\n" not in text and text.startswith("/cfg/config.toml, line ")


def test_good_settings() -> None:
    cfg = settings.parse(
        '[api]\nenabled = true\nhost = "0.0.0.0"\nallow_remote = true\n'
        '[[webhooks]]\nurl = "https://crm.example.com/h?t=1"\nsecret = "s"\nevents = ["account.logged_out"]\n'
        '[alerts]\ncommand = "notify-send wa"\n'
    )
    assert cfg.api.enabled and cfg.webhooks[0].events == ("account.logged_out",) and cfg.alerts.command
