"""The HTTP API and webhook delivery.

    .venv/bin/python bench/bench_api.py [--backend sqlite|postgresql] [--messages 1000000]
        [--requests 2000] [--changes 200] [--events 10000] [--down 60]

1. GET /status/{job} against a real `serve` process with a job of 1,000,000 messages
   (2,000 of them sent, so that the ETA has a pace): p50 and p99 over sequential requests
   on one keep-alive connection. Target: p99 <= 20 ms.
2. A state change (a message marked sent) to its arrival at a local receiver, with the
   receiver up and the deliverer polling as the supervisor runs it: median and p99.
   Target: median <= 1 s.
3. 10,000 events (messages sent by 5 accounts) while the receiver is down for 60 s, then
   up, with the shipped retry policy (5 s doubling to 5 min): lost and out-of-order
   events per account (target 0 and 0), and the drain time from the receiver's return.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx

import settings
from store import Store
from webhooks import Deliverer

PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def write_config(tmp: Path, db: str | Path, api_port: int, hook_port: int) -> Path:
    path = tmp / "config.toml"
    path.write_text(
        f'[paths]\ndatabase = "{db}"\nrun_dir = "{tmp / "run"}"\nlog_dir = "{tmp / "logs"}"\n'
        f'[api]\nport = {api_port}\ntoken_file = "{tmp / "token"}"\n'
        f'[[webhooks]]\nurl = "http://127.0.0.1:{hook_port}/hook"\nsecret = "bench-secret"\n'
    )
    return path


def bench_status(store: Store, cfg_path: Path, port: int, messages: int, requests: int) -> float:
    t = time.perf_counter()
    job = store.create_job(
        "big", "Hello {name}", ({"phone": f"+9198{i:08d}", "text": f"Hello {i}"} for i in range(messages))
    )
    for _ in range(2000):
        m = store.claim("bench")
        assert m is not None
        store.mark_sent(m.id, worker_id="bench")
    print(f"  filled {messages:,} messages (2,000 sent) in {time.perf_counter() - t:.1f} s")
    proc = subprocess.Popen([PY, str(ROOT / "tui.py"), "--config", str(cfg_path), "serve"], cwd=ROOT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        token = (cfg_path.parent / "token").read_text().strip()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            for _ in range(50):  # warm up
                c.get(f"/status/{job}")
            times = []
            for _ in range(requests):
                t0 = time.perf_counter()
                r = c.get(f"/status/{job}")
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200 and r.json()["total"] == messages
    finally:
        proc.terminate()
        proc.wait()
    p50, p99 = statistics.median(times), pct(times, 99)
    print(f"  GET /status/{{job}}: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {requests} requests (target p99 <= 20 ms)")
    print(f"  ratio p99 / target: {p99 / 20:.2f}")
    return p99


class Receiver:
    def __init__(self, port: int) -> None:
        self.port = port
        self.got: list[tuple[float, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with owner.lock:
                    owner.got.append((time.time(), json.loads(body)))
                self.send_response(204)
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


def send_some(store: Store, accounts: list[str], per_account: int, tag: str, gap: float = 0.0) -> list[float]:
    msgs = [{"phone": f"+1202{tag}{a}{i:05d}", "text": "x"} for a in range(len(accounts)) for i in range(per_account)]
    store.create_job(f"job {tag}", "x", msgs)
    for acc in accounts:
        store.register_worker(f"w-{tag}-{acc}", os.getpid(), account=acc)
        store.account_seen(acc, "logged_in")
    marks = []
    for _ in range(per_account):
        for acc in accounts:
            m = store.claim(f"w-{tag}-{acc}", account=acc)
            assert m is not None
            store.mark_sent(m.id, worker_id=f"w-{tag}-{acc}")
            marks.append(time.time())
            if gap:
                time.sleep(gap)
    return marks


def bench_latency(store: Store, cfg: Any, port: int, changes: int) -> float:
    receiver = Receiver(port).start()
    deliverer = Deliverer(Store(cfg.paths.database), cfg).start()
    try:
        time.sleep(0.5)
        start_id = store.outbox_last_id()
        send_some(store, ["lat"], changes, "7", gap=0.05)
        events = {e.uid: e.at for e in store.outbox_events(after_id=start_id, limit=100_000)}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with receiver.lock:
                seen = {env["id"]: t for t, env in receiver.got}
            if set(events) <= set(seen):
                break
            time.sleep(0.1)
    finally:
        deliverer.stop()
        receiver.stop()
    lat = [seen[u] - at for u, at in events.items() if u in seen]
    med, p99 = statistics.median(lat), pct(lat, 99)
    print(
        f"  state change -> receiver: median {med * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms over {len(lat)} events "
        f"(target median <= 1 s; ratio {med:.2f})"
    )
    return med


def bench_backlog(store: Store, cfg: Any, port: int, events: int, down: float) -> None:
    accounts = [f"acc{i}" for i in range(5)]
    deliverer = Deliverer(Store(cfg.paths.database), cfg).start()
    receiver = Receiver(port)
    try:
        time.sleep(0.5)
        start_id = store.outbox_last_id()
        t = time.monotonic()
        send_some(store, accounts, events // len(accounts), "8")
        wanted = store.outbox_events(after_id=start_id, limit=1_000_000)
        print(f"  {len(wanted):,} events written in {time.monotonic() - t:.1f} s; receiver down for {down:.0f} s")
        left = down - (time.monotonic() - t)
        if left > 0:
            time.sleep(left)
        up, up_wall = time.monotonic(), time.time()
        receiver.start()
        ids = {e.uid for e in wanted}
        deadline = up + 900
        while time.monotonic() < deadline:
            with receiver.lock:
                got = {env["id"] for _, env in receiver.got}
            if ids <= got:
                break
            time.sleep(0.1)
        drain = time.monotonic() - up
        with receiver.lock:
            first = min((t for t, _ in receiver.got), default=up_wall) - up_wall
    finally:
        deliverer.stop()
        receiver.stop()
    order = {e.uid: (e.id, e.account) for e in wanted}
    with receiver.lock:
        arrivals = [env for _, env in receiver.got if env["id"] in order]
    seen: set[str] = set()
    last: dict[Any, int] = {}
    out_of_order = 0
    for env in arrivals:
        if env["id"] in seen:
            continue
        seen.add(env["id"])
        oid, acc = order[env["id"]]
        if oid < last.get(acc, 0):
            out_of_order += 1
        last[acc] = max(last.get(acc, 0), oid)
    lost = len(ids - seen)
    dupes = len(arrivals) - len(seen)
    print(
        f"  after the receiver came back: first delivery after {first:.1f} s (the lanes' backoff), all delivered "
        f"after {drain:.1f} s ({drain - first:.1f} s of sending); lost {lost}, out of order {out_of_order}, "
        f"delivered twice {dupes} (targets: 0 lost, 0 out of order)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--down", type=float, default=60.0)
    args = ap.parse_args()
    cluster = None
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmpname:
        tmp = Path(tmpname)
        db: str | Path = tmp / "db.sqlite"
        if args.backend == "postgresql":
            from tests.pg_cluster import Cluster

            cluster = Cluster(durable=True).start()
            db = cluster.fresh_db()
        api_port, hook_port = free_port(), free_port()
        cfg_path = write_config(tmp, db, api_port, hook_port)
        cfg = settings.load(cfg_path)
        store = Store(db)
        try:
            print(f"backend {args.backend}")
            print("1. status at scale")
            bench_status(store, cfg_path, api_port, args.messages, args.requests)
            print("2. latency to the receiver")
            bench_latency(store, cfg, hook_port, args.changes)
            print("3. a backlog while the receiver is down")
            bench_backlog(store, cfg, hook_port, args.events, args.down)
        finally:
            store.close()
            if cluster is not None:
                cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
