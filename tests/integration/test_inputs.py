"""Every input bounded: each case a user once met as a hang, a traceback, a huge line or a
silently replaced file is now one line naming what is wrong, exit status 2, and nothing
half-written. `python tui.py ...` in a subprocess, as a user runs it."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import Store, StoreError
from tests.support.cli import one_line_error, tui
from tests.support.paths import ROOT


@pytest.fixture
def contacts(tmp_path: Path) -> Path:
    p = tmp_path / "contacts.csv"
    p.write_text("Name,Phone\nAna,+1 202 555 0101\nBob,+1 202 555 0102\n", encoding="utf-8")
    return p


@pytest.fixture
def db(tmp_path: Path, contacts: Path) -> Path:
    path = tmp_path / "data" / "db.sqlite"
    assert tui("--db", str(path), "import", str(contacts), "--template", "Hi {name}").returncode == 0
    return path


def jobs_in(path: Path) -> int:
    store = Store(path)
    try:
        return len(store.jobs())
    finally:
        store.close()


# ----------------------------------------------------------------------------- files that are not files


def test_a_fifo_as_contact_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "contacts.csv"
    os.mkfifo(fifo)
    one_line_error(
        tui("--db", str(tmp_path / "db"), "import", str(fifo), "--template", "x", timeout=20),
        str(fifo),
        "not a regular file",
    )
    assert not (tmp_path / "db").exists()


def test_a_fifo_as_template_file_is_refused(tmp_path: Path, contacts: Path) -> None:
    fifo = tmp_path / "template.txt"
    os.mkfifo(fifo)
    one_line_error(
        tui("--db", str(tmp_path / "db"), "import", str(contacts), "--template-file", str(fifo), timeout=20),
        "pipe (FIFO)",
        "template file",
    )


def test_dev_zero_as_contact_or_template_file_is_refused_at_once(tmp_path: Path, contacts: Path) -> None:
    t0 = time.monotonic()
    one_line_error(
        tui("--db", str(tmp_path / "db"), "import", "/dev/zero", "--template", "x", timeout=20),
        "/dev/zero",
        "not a regular file",
    )
    one_line_error(
        tui("--db", str(tmp_path / "db"), "import", str(contacts), "--template-file", "/dev/zero", timeout=20),
        "/dev/zero",
        "a device",
    )
    assert time.monotonic() - t0 < 15


def test_a_folder_or_fifo_as_attachment_is_refused(tmp_path: Path, contacts: Path) -> None:
    one_line_error(
        tui("--db", str(tmp_path / "db"), "import", str(contacts), "--template", "x", "--attach", str(tmp_path)),
        "is a folder",
        "attachment",
    )
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    one_line_error(
        tui(
            "--db", str(tmp_path / "db"), "import", str(contacts), "--template", "x", "--attach", str(fifo), timeout=20
        ),
        "attachment",
    )


def test_a_huge_template_is_refused(tmp_path: Path, contacts: Path) -> None:
    big = tmp_path / "t.txt"
    big.write_text("x" * 70_000, encoding="utf-8")
    one_line_error(tui("--db", str(tmp_path / "db"), "import", str(contacts), "--template-file", str(big)), "too big")


def test_a_message_longer_than_whatsapp_takes_is_a_problem_row(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text(
        "Name,Phone,Note\nAna,+1 202 555 0101," + "n" * 70_000 + "\nBob,+1 202 555 0102,short\n", encoding="utf-8"
    )
    proc = tui("--db", str(tmp_path / "db"), "import", str(p), "--template", "{Note}")
    assert proc.returncode == 0, proc.stderr
    assert "queued      1" in proc.stdout and "too long for WhatsApp (70,000 characters" in proc.stdout


# ----------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    "cmd", [["status"], ["pause"], ["resume"], ["stop"], ["retry"], ["review"], ["export", "-o", "x.csv"]]
)
def test_job_ids_out_of_range_are_one_line(db: Path, tmp_path: Path, cmd: list[str]) -> None:
    proc = tui("--db", str(db), cmd[0], str(2**63), *cmd[1:], cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "not an id" in proc.stderr
    assert tui("--db", str(db), "review", "--mark-sent", str(2**64)).stderr.count("not a message id") == 1


# ----------------------------------------------------------------------------- export targets


def test_export_refuses_folders_devices_and_links_and_writes_whole(db: Path, tmp_path: Path) -> None:
    one_line_error(tui("--db", str(db), "export", "1", "-o", str(tmp_path)), "is a folder")
    one_line_error(tui("--db", str(db), "export", "1", "-o", "/"), "is a folder")
    one_line_error(tui("--db", str(db), "export", "1", "-o", "/dev/full"), "/dev/full", "not a regular file")
    assert Path("/dev/full").is_char_device()  # still the device, not replaced by a file
    keep = tmp_path / "precious.txt"
    keep.write_text("do not touch", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(keep)
    one_line_error(tui("--db", str(db), "export", "1", "-o", str(link)), "symbolic link")
    assert link.is_symlink() and keep.read_text(encoding="utf-8") == "do not touch"
    one_line_error(tui("--db", str(db), "export", "1", "-o", str(tmp_path / "nope" / "x.csv")), "folder not found")
    out = tmp_path / "out.csv"
    out.write_text("old", encoding="utf-8")
    assert tui("--db", str(db), "export", "1", "-o", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8-sig").startswith("phone,name,status")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.glob(".out.csv.*"))  # no temporary file left behind


# ----------------------------------------------------------------------------- the database


def test_a_database_path_that_is_a_folder_is_one_line_even_for_jobs(tmp_path: Path, contacts: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    for args in (["jobs"], ["import", str(contacts), "--template", "x"], ["optout", "list"]):
        one_line_error(tui("--db", str(folder), *args), str(folder), "folder")


def test_a_read_only_database_is_one_line(contacts: Path) -> None:
    """As another user who may read the file but not write it (root ignores permissions)."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="wa-ro-", dir="/tmp"))
    try:
        home.chmod(0o755)
        db = home / "db.sqlite"
        assert tui("--db", str(db), "import", str(contacts), "--template", "Hi").returncode == 0
        for p in home.iterdir():
            p.chmod(0o644)
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                sys.executable,
                str(ROOT / "tui.py"),
                "--db",
                str(db),
                "pause",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/tmp",
        )
        one_line_error(proc, str(db), "read-only")
        # A database this user cannot even reach: still one line.
        home.chmod(0o700)
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                sys.executable,
                str(ROOT / "tui.py"),
                "--db",
                str(db),
                "jobs",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/tmp",
        )
        one_line_error(proc, "Permission denied")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _full_disk_import(tmp_path: Path, contacts: Path) -> subprocess.CompletedProcess:
    """An import whose database cannot grow past a few hundred kilobytes: a real full
    filesystem (a small tmpfs) where the machine allows it, else a file size limit."""
    big = tmp_path / "big.csv"
    big.write_text("Name,Phone\n" + "".join(f"P{i},+1 202 555 {i:04d}\n" for i in range(9000)), encoding="utf-8")
    mnt = tmp_path / "small"
    mnt.mkdir()
    cmd = [
        sys.executable,
        str(ROOT / "tui.py"),
        "--db",
        str(mnt / "db.sqlite"),
        "import",
        str(big),
        "--template",
        "Hello {name}, " + "this is a long message " * 10,
    ]
    if shutil.which("unshare") and os.geteuid() == 0:
        probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
        if probe.returncode == 0:
            script = (
                f'mount -t tmpfs -o size=300k tmpfs {mnt} && "$@"; rc=$?; '
                f"cp -a {mnt}/. {tmp_path}/after/ 2>/dev/null; exit $rc"
            )
            (tmp_path / "after").mkdir()
            return subprocess.run(
                ["unshare", "-m", "sh", "-c", script, "sh", *cmd], capture_output=True, text=True, timeout=120
            )

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))

    (tmp_path / "after").mkdir()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, preexec_fn=limit)
    for f in mnt.iterdir():
        shutil.copy(f, tmp_path / "after" / f.name)
    return proc


def test_a_full_disk_is_one_line_and_leaves_no_partial_job(tmp_path: Path, contacts: Path) -> None:
    proc = _full_disk_import(tmp_path, contacts)
    one_line_error(proc, "db.sqlite", "disk")
    after = tmp_path / "after" / "db.sqlite"
    if after.exists():  # what the full disk kept: a database without the job
        assert jobs_in(after) == 0


def test_a_database_locked_too_long_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = Store(path, create=False, busy_timeout=0.3)
        with pytest.raises(StoreError, match="locked by another process"):
            store.create_job("j", "t", [{"phone": "+12025550101", "text": "x"}])
        store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert jobs_in(path) == 0


# ----------------------------------------------------------------------------- templates, config, arguments


def test_spintax_nested_500_deep_is_one_line(tmp_path: Path, contacts: Path) -> None:
    one_line_error(
        tui("--db", str(tmp_path / "db"), "import", str(contacts), "--template", "{a|" * 500 + "b" + "}" * 500),
        "nested more than 20 levels",
    )


@pytest.mark.parametrize(
    "body, needle",
    [
        ("[sending]\ndelay_max = inf\n", "sending.delay_max: must be a finite number"),
        ("[browser]\nchat_timeout = nan\n", "browser.chat_timeout: must be a finite number"),
        ("[browser]\nack_timeout = 1e12\n", "browser.ack_timeout: must be at most"),
        ("[sending]\nmax_attempts = 99999999999\n", "sending.max_attempts: must be at most"),
    ],
)
def test_config_numbers_must_be_finite_and_in_range(tmp_path: Path, body: str, needle: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(body, encoding="utf-8")
    one_line_error(tui("--config", str(cfg), "jobs"), needle)


def test_a_config_that_is_not_a_regular_file_is_one_line(tmp_path: Path) -> None:
    one_line_error(tui("--config", str(tmp_path), "jobs"), "not a regular file")
    one_line_error(tui("--config", "/dev/zero", "jobs", timeout=20), "not a regular file")


def test_the_simulator_takes_its_flags_after_global_options(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tui.py"), "--config", str(ROOT / "config.toml"), "simulator", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_error_lines_cut_long_input(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"column number {i}" for i in range(50_000)) + "\n", encoding="utf-8")
    line = one_line_error(tui("--db", str(tmp_path / "db"), "import", str(wide), "--template", "x"), str(wide))
    # Cut in the middle (the echoed header), never at the end: the reason survives.
    assert "…" in line and len(line) <= 310
    assert line.endswith("column number 49999): header only, no data rows"), line
