"""The HTTP API against a real `python tui.py serve` process on a free port of 127.0.0.1,
through httpx: every endpoint with and without the token, bad bodies, oversize uploads,
nothing stored by a bad request; on SQLite and PostgreSQL. One browser test: a job
created over HTTP is sent by the real worker to the simulator."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from store import Store
from tests.support.api import Server, free_port, minimal_config
from tests.support.paths import PY, ROOT
from tests.support.waiting import wait_until


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Store]]:
    tmp = tmp_path_factory.mktemp(f"api-{request.param}")
    db: str | Path = tmp / "db.sqlite"
    if request.param == "postgresql":
        db = request.getfixturevalue("pg_cluster").fresh_db()
    store = Store(db)
    port = free_port()
    server = Server(minimal_config(tmp, db, port, max_upload_mb=1), port)
    yield server, store
    server.stop()
    store.close()


ENDPOINTS = [
    ("GET", "/jobs"),
    ("GET", "/status/1"),
    ("POST", "/pause/1"),
    ("POST", "/resume/1"),
    ("POST", "/stop/1"),
    ("POST", "/send"),
    ("POST", "/upload"),
    ("GET", "/jobs/1/messages"),
    ("GET", "/replies"),
    ("GET", "/accounts"),
    ("POST", "/messages/1/review"),
    ("GET", "/metrics"),
]


def job_count(store: Store) -> int:
    return len(store.jobs())


def test_every_endpoint_needs_the_token(served: tuple[Server, Store]) -> None:
    server, store = served
    for method, path in ENDPOINTS:
        for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"Authorization": server.token}):
            r = server.anon.request(method, path, headers=headers)
            assert r.status_code == 401, (method, path, r.text)
            assert "token" in r.json()["error"]
            assert r.headers["www-authenticate"] == "Bearer"
    assert server.anon.get("/health").json()["status"] == "ok"
    spec = server.anon.get("/openapi.json").json()
    assert {p for _, p in ENDPOINTS} - {"/status/1", "/pause/1", "/resume/1", "/stop/1"} <= {
        p.replace("{job}", "1").replace("{message}", "1") for p in spec["paths"]
    }
    assert "bearer" in json.dumps(spec["components"]["securitySchemes"]).lower()
    page = server.anon.get("/docs")
    assert page.status_code == 200 and "/send" in page.text and "<script" not in page.text
    token_file = server.config.parent / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert job_count(store) == 0


def test_a_job_over_http_is_steered_by_the_job_service(served: tuple[Server, Store]) -> None:
    server, store = served
    c = server.client
    r = c.post(
        "/send",
        json={
            "contacts": [
                {"phone": "+14155550100", "name": "Ann", "city": "Lisbon"},
                {"phone": "+14155550101", "name": "Bo", "city": "Porto"},
                {"phone": "12", "name": "Bad"},
                {"phone": "+14155550100", "name": "Dup"},
            ],
            "template": "Hi {name} from {city}",
            "name": "http job",
        },
    )
    assert r.status_code == 201, r.text
    doc = r.json()
    job = doc["job_id"]
    assert doc["summary"] == {"total_rows": 4, "queued": 2, "invalid": 1, "duplicates": 1, "opted_out": 0, "blank": 0}
    assert doc["preview"][0]["text"] == "Hi Ann from Lisbon"
    st = c.get(f"/status/{job}").json()
    assert st["name"] == "http job" and st["status"] == "running" and st["counts"]["pending"] == 2
    assert next(j["id"] for j in c.get("/jobs").json()["jobs"]) == job
    paused = {"job_id": job, "old": "running", "new": "paused", "text": f"Job {job} paused"}
    assert c.post(f"/pause/{job}").json() == paused
    r = c.post(f"/pause/{job}")
    assert r.status_code == 409 and "paused" in r.json()["error"]
    assert c.post(f"/resume/{job}").json()["new"] == "running"
    r = c.post(f"/resume/{job}")
    assert r.status_code == 409 and "only a paused job" in r.json()["error"]
    # keyset pages
    first = c.get(f"/jobs/{job}/messages", params={"limit": 1}).json()
    assert len(first["messages"]) == 1 and first["next_after"] == first["messages"][0]["id"]
    second = c.get(f"/jobs/{job}/messages", params={"limit": 1, "after": first["next_after"]}).json()
    assert second["messages"][0]["id"] > first["messages"][0]["id"]
    assert c.get(f"/jobs/{job}/messages", params={"status": "pending"}).json()["next_after"] is None
    assert c.get(f"/jobs/{job}/messages", params={"status": "sent"}).json()["messages"] == []
    # a message in doubt, decided over HTTP (the job service's review)
    claim = store.claim("w-test", account="default")
    assert claim is not None
    store.mark_clicking(claim.id, worker_id="w-test")
    store.mark_unknown(claim.id, "no tick", worker_id="w-test")
    r = c.post(f"/messages/{claim.id}/review", json={"decision": "sent"})
    assert r.status_code == 200 and r.json()["status"] == "sent", r.text
    r = c.post(f"/messages/{claim.id}/review", json={"decision": "resend"})
    assert r.status_code == 409 and "not unknown" in r.json()["error"]
    assert c.get("/replies", params={"job": job}).json() == {"replies": [], "next_after": None}
    accounts = c.get("/accounts").json()
    assert accounts["accounts"][0]["name"] == "default"
    metrics = c.get("/metrics").text
    assert 'wa_messages{account="default",status="sent"} 1' in metrics
    assert "wa_queue_depth " in metrics and "# TYPE wa_worker_state gauge" in metrics
    assert c.post(f"/stop/{job}").json()["new"] == "stopped"
    r = c.post(f"/stop/{job}")
    assert r.status_code == 409


def test_bad_requests_get_one_clear_4xx_and_store_nothing(served: tuple[Server, Store]) -> None:
    server, store = served
    c = server.client
    before = job_count(store)
    cases: list[tuple[httpx.Response, int, str]] = [
        (c.get("/status/987654"), 404, "no job 987654"),
        (c.post("/pause/987654"), 404, "no job"),
        (c.get("/status/abc"), 422, "'job'"),
        (c.get("/status/0"), 422, "'job'"),
        (c.get("/jobs/987654/messages"), 404, "no job"),
        (c.get("/jobs/1/messages", params={"status": "lost"}), 422, "unknown message status"),
        (c.post("/messages/987654/review", json={"decision": "sent"}), 404, "no message"),
        (c.post("/messages/1/review", json={"decision": "maybe"}), 422, "decision"),
        (c.post("/messages/1/review", content=b"{not json", headers={"content-type": "application/json"}), 400, "JSON"),
        (c.post("/send", content=b"{not json", headers={"content-type": "application/json"}), 400, "malformed JSON"),
        (c.post("/send", content=b"phone\n+14155550100\n", headers={"content-type": "text/csv"}), 415, "content type"),
        (c.post("/send", json={"template": "Hi"}), 422, "contacts"),
        (c.post("/send", json={"contacts": [], "template": "Hi"}), 422, "contacts"),
        (c.post("/send", json={"contacts": [{"phone": "+14155550100"}]}), 422, "template"),
        (c.post("/send", json={"contacts": [{"phone": "+14155550100"}], "template": "Hi", "colour": 1}), 422, "colour"),
        (c.post("/send", json={"contacts": [{"phone": "+14155550100"}], "template": "Hi {surname}"}), 422, "surname"),
        (
            c.post("/send", json={"contacts": [{"phone": "+14155550100"}], "template": "Hi", "start_at": "soon"}),
            422,
            "start_at",
        ),
        (
            c.post("/send", json={"contacts": [{"phone": "+14155550100"}], "template": "Hi", "accounts": ["nope"]}),
            422,
            "no account 'nope'",
        ),
        (c.post("/send", json={"contacts": [{"phone": "12"}], "template": "Hi"}), 422, "no row has a valid number"),
        (c.post("/send", json={"contacts": [{"phone": ["+1"]}], "template": "Hi"}), 422, "string or a number"),
        (
            c.post("/send", files={"file": ("payload.exe", b"MZ\x90\x00binary")}, data={"template": "Hi"}),
            415,
            "not a contact file",
        ),
        (
            c.post("/send", files={"file": ("list.csv", b"\x00\x01\x02\x03" * 100)}, data={"template": "Hi"}),
            422,
            "list.csv",
        ),
        (c.post("/send", files={"file": ("list.csv", b"name\nAnn\n")}, data={"template": "Hi"}), 422, "list.csv"),
        (
            c.post("/send", files={"file": ("list.csv", b"phone\n+14155550100\n")}, data={"template": "Hi", "x": "1"}),
            422,
            "unknown field 'x'",
        ),
        (c.post("/upload", json={"contacts": []}), 415, "multipart/form-data"),
        (c.get("/nowhere"), 404, "no such endpoint"),
        (c.delete("/jobs"), 405, "method not allowed"),
    ]
    for r, status, words in cases:
        assert r.status_code == status, (r.request.method, r.request.url, r.text)
        body = r.json()
        assert list(body) == ["error"] and words in body["error"], (r.request.url, body)
        assert "\n" not in body["error"] and "/tmp/" not in body["error"]
    # bigger than [api] max_upload_mb (1 MB): refused, by its length or while it streams
    big = b"phone\n" + b"+14155550100\n" * 100_000
    r = c.post("/send", files={"file": ("big.csv", big)}, data={"template": "Hi"})
    assert r.status_code == 413 and "max_upload_mb" in r.json()["error"]

    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b"x" * 65536

    r = c.post("/send", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    # an attachment with a bad contact file: no job, and the attachment is not kept
    r = c.post(
        "/send",
        files={"file": ("list.csv", b"phone\n12\n"), "attachment": ("offer.pdf", b"%PDF-1.4 offer")},
        data={"template": "Hi"},
    )
    assert r.status_code == 422
    uploads = server.config.parent / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    assert job_count(store) == before


def test_upload_checks_a_file_and_creates_nothing(served: tuple[Server, Store]) -> None:
    server, store = served
    before = job_count(store)
    csv = b"Name;Mobile;City\nAnn;+14155550100;Lisbon\nBo;555-0101;Porto\nCy;+14155550100;Faro\n"
    r = server.client.post("/upload", files={"file": ("clients.csv", csv)}, data={"template": "Hi {Name} in {City}"})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["file"] == "clients.csv" and plan["phone_column"] == "Mobile" and plan["delimiter"] == ";"
    assert plan["summary"]["queued"] == 1 and plan["summary"]["duplicates"] == 1 and plan["summary"]["invalid"] == 1
    assert plan["preview"][0]["text"] == "Hi Ann in Lisbon"
    no_tpl = server.client.post("/upload", files={"file": ("clients.csv", csv)}).json()
    assert "preview" not in no_tpl and no_tpl["summary"]["queued"] == 1
    dry = server.client.post(
        "/send", files={"file": ("clients.csv", csv)}, data={"template": "Hi {Name}", "dry_run": "true"}
    )
    assert dry.status_code == 200 and dry.json()["job_id"] is None
    assert job_count(store) == before


def test_serve_refuses_what_it_must(tmp_path: Path) -> None:
    port = free_port()
    cfg = minimal_config(tmp_path, tmp_path / "db.sqlite", port)
    r = subprocess.run(
        [PY, str(ROOT / "tui.py"), "--config", str(cfg), "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--allow-remote" in r.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        r = subprocess.run(
            [PY, str(ROOT / "tui.py"), "--config", str(cfg), "serve"], capture_output=True, text=True, timeout=60
        )
    assert r.returncode == 2 and "cannot listen on 127.0.0.1" in r.stderr, r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[api]\nhost = "0.0.0.0"\n')
    r = subprocess.run(
        [PY, str(ROOT / "tui.py"), "--config", str(bad), "serve"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and "api.host" in r.stderr and "allow_remote" in r.stderr


def test_the_supervisor_runs_serve_when_the_api_is_enabled(tmp_path: Path) -> None:
    port = free_port()
    cfg = minimal_config(tmp_path, tmp_path / "db.sqlite", port, enabled=True)
    env = dict(os.environ, WA_SENDER_WORKER_CMD=json.dumps([PY, "-c", "import time; time.sleep(600)"]))
    sup = subprocess.Popen(
        [PY, str(ROOT / "tui.py"), "--config", str(cfg), "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state_file = tmp_path / "run" / "supervisor.json"

    def api_state() -> str | None:
        try:
            return json.loads(state_file.read_text())["services"]["api"]["state"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    try:
        wait_until(lambda: api_state() == "running", 30, "the API program running")
        wait_until(lambda: _health(port), 30, "the API answering")
        out = subprocess.run(
            [PY, str(ROOT / "tui.py"), "--config", str(cfg), "accounts"], capture_output=True, text=True, timeout=60
        ).stdout
        assert f"API: running on http://127.0.0.1:{port}" in out
    finally:
        sup.send_signal(signal.SIGTERM)
        sup.wait(30)
    assert sup.returncode == 0 and not _health(port)


def _health(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
