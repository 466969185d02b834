"""The scriptable CLI, run as a user runs it: `python tui.py ...` in a subprocess."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from store import Store
from tests.support.cli import assert_user_error, tui
from tests.support.paths import PY, ROOT


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "db" / "jobs.db"


@pytest.fixture
def contacts_csv(tmp_path: Path) -> Path:
    p = tmp_path / "contacts.csv"
    p.write_text(
        "Name,Phone,City\n"
        "Ana,+91 98765 43210,Pune\n"
        "Bob,12345,Goa\n"
        "Ana again,+919876543210,Pune\n"
        "Cy,0091-98765-43211,Delhi\n"
        '=cmd,+1 (202) 555-0147,"=HYPERLINK(""x"")"\n',
        encoding="utf-8",
    )
    return p


def test_help_lists_every_subcommand() -> None:
    out = tui("--help").stdout
    for cmd in (
        "import",
        "jobs",
        "status",
        "pause",
        "resume",
        "stop",
        "export",
        "optout",
        "worker",
        "simulator",
        "demo",
        "review",
        "attention",
    ):
        assert cmd in out


def test_import_reports_counts_and_creates_the_job(db: Path, contacts_csv: Path) -> None:
    proc = tui(
        "--db",
        str(db),
        "import",
        str(contacts_csv),
        "--template",
        "Hello {name} from {City}",
        "--name",
        "launch",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["job_id"] == 1
    assert result["summary"]["queued"] == 3
    assert result["summary"]["invalid"] == 1
    assert result["summary"]["duplicates"] == 1
    assert result["invalid"][0]["row"] == 3 and result["invalid"][0]["raw"] == "12345"
    assert result["duplicates"][0]["row"] == 4
    jobs = json.loads(tui("--db", str(db), "jobs", "--json").stdout)
    assert [(j["name"], j["status"], j["total"]) for j in jobs] == [("launch", "running", 3)]
    status = json.loads(tui("--db", str(db), "status", "1", "--json").stdout)
    assert status["counts"]["pending"] == 3


def test_dry_run_creates_nothing_and_shows_problem_rows(db: Path, contacts_csv: Path) -> None:
    proc = tui("--db", str(db), "import", str(contacts_csv), "--template", "Hi {name}\nline two 😀", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "nothing was created" in proc.stdout
    assert "Hi Ana" in proc.stdout and "line two 😀" in proc.stdout
    assert "row 3" in proc.stdout and "row 4" in proc.stdout
    assert not db.exists()


def test_template_file_and_rendered_text_is_stored(db: Path, contacts_csv: Path, tmp_path: Path) -> None:
    tpl = tmp_path / "t.txt"
    tpl.write_text("Dear {Name},\nsee you in {City} ✨", encoding="utf-8")
    assert tui("--db", str(db), "import", str(contacts_csv), "--template-file", str(tpl)).returncode == 0
    rows = list(Store(db).iter_messages(1))
    assert rows[0]["text"] == "Dear Ana,\nsee you in Pune ✨"


def test_optout_is_skipped_at_import(db: Path, contacts_csv: Path) -> None:
    assert tui("--db", str(db), "optout", "add", "+91 98765 43211", "--reason", "asked").returncode == 0
    listed = tui("--db", str(db), "optout", "list").stdout
    assert "+919876543211" in listed and "asked" in listed
    result = json.loads(tui("--db", str(db), "import", str(contacts_csv), "--template", "x", "--json").stdout)
    assert result["summary"]["opted_out"] == 1 and result["summary"]["queued"] == 2
    assert tui("--db", str(db), "optout", "remove", "+919876543211").returncode == 0
    assert "No opted-out numbers" in tui("--db", str(db), "optout", "list").stdout


def test_pause_resume_stop(db: Path, contacts_csv: Path) -> None:
    tui("--db", str(db), "import", str(contacts_csv), "--template", "x")
    assert "running -> paused" in tui("--db", str(db), "pause", "1").stdout
    assert "paused -> running" in tui("--db", str(db), "resume", "1").stdout
    assert "running -> stopped" in tui("--db", str(db), "stop", "1").stdout
    assert_user_error(tui("--db", str(db), "resume", "1"), "job 1 is stopped")
    assert_user_error(tui("--db", str(db), "pause", "9"), "no job 9")


def test_start_at(db: Path, contacts_csv: Path) -> None:
    proc = tui("--db", str(db), "import", str(contacts_csv), "--template", "x", "--start-at", "2030-01-02T09:30")
    assert proc.returncode == 0
    job = json.loads(tui("--db", str(db), "status", "1", "--json").stdout)
    from datetime import datetime

    assert job["start_at"] == datetime(2030, 1, 2, 9, 30).timestamp()
    assert_user_error(
        tui("--db", str(db), "import", str(contacts_csv), "--template", "x", "--start-at", "soon"), "--start-at"
    )


def test_export_escapes_formula_cells(db: Path, contacts_csv: Path, tmp_path: Path) -> None:
    tui("--db", str(db), "import", str(contacts_csv), "--template", "x")
    out = tmp_path / "out.csv"
    proc = tui("--db", str(db), "export", "1", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "phone",
        "name",
        "status",
        "attempts",
        "sent_at",
        "error",
        "review",
        "replies",
        "last_reply",
        "last_reply_at",
        "opted_out_by_reply",
    ]
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["'=cmd"][0] == "'+12025550147"
    assert by_name["Ana"][2] == "pending"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows[1:] for cell in r)


def _unknown_messages(db: Path, contacts_csv: Path) -> list[int]:
    """Two messages of job 1 clicked by a worker that died: nothing proved their outcome."""
    from store import Store

    tui("--db", str(db), "import", str(contacts_csv), "--template", "Hi {name}")
    store = Store(db)
    ids = []
    for _ in range(2):
        msg = store.claim("gone:1:1")
        store.mark_clicking(msg["id"], worker_id="gone:1:1")
        store.mark_unknown(msg["id"], "no tick within 60 s", worker_id="gone:1:1")
        store.note_undetermined(msg["id"], "a bubble with this text has no readable time")
        ids.append(msg["id"])
    store.close()
    return ids


def test_review_lists_unknown_messages_and_records_decisions(db: Path, contacts_csv: Path) -> None:
    a, b = _unknown_messages(db, contacts_csv)
    listed = tui("--db", str(db), "review")
    assert listed.returncode == 0, listed.stderr
    assert "2 message(s)" in listed.stdout and "no readable time" in listed.stdout
    assert str(a) in listed.stdout and str(b) in listed.stdout
    rows = json.loads(tui("--db", str(db), "review", "1", "--json").stdout)
    assert [r["id"] for r in rows] == [a, b] and rows[0]["review"].startswith("a bubble")
    status = tui("--db", str(db), "status", "1").stdout
    assert "2 message(s) wait for a decision: python tui.py review 1" in status
    done = tui("--db", str(db), "review", "--mark-sent", str(a), "--resend", str(b))
    assert done.returncode == 0, done.stderr
    assert f"message {a}: marked sent" in done.stdout and f"message {b}: queued again" in done.stdout
    from store import Store

    store = Store(db)
    assert store.message(a)["status"] == "sent" and store.message(b)["status"] == "pending"
    assert store.message(b)["review"] is None and store.message(b)["claimed_by"] is None
    store.close()
    assert "Nothing to review" in tui("--db", str(db), "review").stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--mark-sent", "999"], "no message 999"),
        (["--mark-sent", "1", "--resend", "1"], "both in --mark-sent and --resend"),
        (["--resend", "x1"], "--resend: 'x1' is not a message id"),
        (["--mark-sent", str(2**63)], "is not a message id"),
        (["7"], "no job 7"),
    ],
)
def test_review_bad_input_is_one_line_and_changes_nothing(
    db: Path, contacts_csv: Path, args: list[str], needle: str
) -> None:
    a, b = _unknown_messages(db, contacts_csv)
    assert_user_error(tui("--db", str(db), "review", *args), needle)
    # One bad id among good ones: nothing is decided.
    assert_user_error(tui("--db", str(db), "review", "--mark-sent", str(a), "3"), "message 3 is pending")
    from store import Store

    store = Store(db)
    assert [store.message(i)["status"] for i in (a, b)] == ["unknown", "unknown"]
    store.close()


def test_attention_shows_and_clears_a_stopped_line(db: Path, contacts_csv: Path) -> None:
    tui("--db", str(db), "import", str(contacts_csv), "--template", "x")
    assert "not stopped" in tui("--db", str(db), "attention").stdout
    from store import Store

    store = Store(db)
    store.put_attention(
        "default",
        {
            "key": "send_button",
            "detail": "selector 'send_button': none matched",
            "dump": "/tmp/x/20261130-send_button",
            "messages": [1, 2, 3],
            "since": 1.0,
        },
    )
    store.close()
    shown = tui("--db", str(db), "attention")
    assert "selector 'send_button' failed on 3 messages in a row" in shown.stdout
    assert "20261130-send_button.html" in shown.stdout and "python tui.py doctor" in shown.stdout
    cleared = tui("--db", str(db), "attention", "--clear")
    assert "Cleared" in cleared.stdout
    assert "not stopped" in tui("--db", str(db), "attention").stdout


# ---- bad input: one line, exit 2, nothing written --------------------------------


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header = tmp_path / "header.csv"
    header.write_text("Name,Phone\n")
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    unknown = tmp_path / "notes.pdf"
    unknown.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    nophone = tmp_path / "nophone.csv"
    nophone.write_text("Name,City\nAna,Pune\nBob,Goa\n")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip file")
    bad_enc = tmp_path / "garbage.csv"
    bad_enc.write_bytes(b"Name,Phone\n" + bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D, 0xFE, 0xFF, 0x00]) * 40 + b"\n")
    return {
        "missing": (tmp_path / "nope.csv", "not found"),
        "empty": (empty, "empty"),
        "header only": (header, "no data rows"),
        "binary": (binary, "photo.csv"),
        "unknown format": (unknown, "notes.pdf"),
        "no phone column": (nophone, "phone"),
        "broken xlsx": (broken, "broken.xlsx"),
        "bad encoding": (bad_enc, "garbage.csv"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing", "empty", "header only", "binary", "unknown format", "no phone column", "broken xlsx", "bad encoding"],
)
def test_bad_contact_files(tmp_path: Path, db: Path, case: str) -> None:
    path, needle = _bad_files(tmp_path)[case]
    proc = tui("--db", str(db), "import", str(path), "--template", "Hi {name}")
    assert_user_error(proc, needle)
    assert not db.exists()


def test_missing_attachment(tmp_path: Path, db: Path, contacts_csv: Path) -> None:
    assert_user_error(
        tui("--db", str(db), "import", str(contacts_csv), "--template", "x", "--attach", str(tmp_path / "nope.jpg")),
        "attachment not found",
    )
    assert not db.exists()


def test_unknown_placeholder_names_the_columns(db: Path, contacts_csv: Path) -> None:
    proc = tui("--db", str(db), "import", str(contacts_csv), "--template", "Hi {Frist}")
    assert_user_error(proc, "{Frist}")
    assert "'City'" in proc.stderr
    assert not db.exists()


def test_unsafe_placeholder_is_never_evaluated(db: Path, contacts_csv: Path) -> None:
    for tpl in ("{0.__class__}", "{name.__init__}", "{name[0]}"):
        proc = tui("--db", str(db), "import", str(contacts_csv), "--template", tpl)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "class" not in proc.stdout
    assert not db.exists()


def test_bad_config(tmp_path: Path, contacts_csv: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[sending]\ndelay_min = 'soon'\n")
    proc = tui("--config", str(cfg), "import", str(contacts_csv), "--template", "x")
    assert_user_error(proc, "sending.delay_min")
    assert "line 2" in proc.stderr
    assert not (tmp_path / "data").exists()


def test_config_from_environment(tmp_path: Path, contacts_csv: Path) -> None:
    import os

    cfg = tmp_path / "c.toml"
    cfg.write_text('[paths]\ndatabase = "env.db"\n')
    env = dict(os.environ, WA_SENDER_CONFIG=str(cfg))
    assert tui("import", str(contacts_csv), "--template", "x", env=env).returncode == 0
    assert (tmp_path / "env.db").exists()


def test_bad_arguments(db: Path, contacts_csv: Path) -> None:
    proc = tui("--db", str(db), "import", str(contacts_csv))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert_user_error(
        tui("--db", str(db), "import", str(contacts_csv), "--template", "x", "--region", "ZZ"), "--region"
    )
    assert_user_error(tui("--db", str(db), "optout", "add", "12"), "not a phone number")
    assert_user_error(tui("--db", str(db), "status", "1"), "no database")


def test_xlsx_float_numbers_import(tmp_path: Path, db: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "Mobile"])
    ws.append(["Ana", 919876543210.0])
    ws.append(["Bob", 919876543211])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    result = json.loads(tui("--db", str(db), "import", str(path), "--template", "Hi {name}", "--json").stdout)
    assert [m["phone"] for m in result["preview"]] == ["+919876543210", "+919876543211"]


def test_import_of_a_big_file_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty

    big = tmp_path / "big.csv"
    big.write_text("Name,Phone\n" + "".join(f"P{i},+1 202 555 {i:04d}\n" for i in range(9000)), encoding="utf-8")
    out = bytearray()

    def read(fd: int) -> bytes:
        data = os.read(fd, 65536)
        out.extend(data)
        return data

    argv = [
        PY,
        str(ROOT / "tui.py"),
        "--db",
        str(tmp_path / "db.sqlite"),
        "import",
        str(big),
        "--template",
        "Hi {name}",
    ]
    status = pty.spawn(argv, read)
    text = out.decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "checking numbers and writing messages:" in text and "of 9,000 rows" in text
    assert "100%" in text and "queued      9000" in text
    # Not on a pipe: scripts and --json get no progress lines.
    piped = tui("--db", str(tmp_path / "db2.sqlite"), "import", str(big), "--template", "Hi {name}")
    assert "checking numbers" not in piped.stdout + piped.stderr
