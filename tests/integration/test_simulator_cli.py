"""The simulator's command line: ``python -m simulator`` / ``python tui.py simulator``."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from simulator.cli import build_parser, main
from tests.support.paths import ROOT


@pytest.mark.parametrize(
    "argv",
    [
        ["--failure-rate", "2"],
        ["--port", "70000"],
        ["--ack-delay", "-1"],
        ["--invalid-suffix", "1x"],
        ["--lose-clicks", "many"],
        ["--qr-rotate", "0"],
        ["--own-number", "12"],
        ["--incoming", "+15551234567"],
        ["--incoming", "12=STOP"],
        ["--no-such-flag"],
    ],
)
def test_bad_flags_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_flags_reach_the_settings() -> None:
    from simulator.cli import simulator_from_args

    args = build_parser().parse_args(
        [
            "--port",
            "0",
            "--boot-time",
            "0.5",
            "--ack-delay",
            "1.5",
            "--invalid",
            "+15550001313, 4930123456",
            "--invalid-suffix",
            "13",
            "--stuck-clock",
            "--lose-clicks",
            "2",
            "--failure-rate",
            "0.25",
            "--phone-disconnected",
            "--auto-login",
            "4",
            "--qr-rotate",
            "7",
            "--qr-rotations",
            "3",
        ]
    )
    s = simulator_from_args(args).settings
    assert s["boot_time"] == 0.5 and s["ack_delay"] == 1.5
    assert s["invalid_numbers"] == ["15550001313", "4930123456"] and s["invalid_suffix"] == "13"
    assert s["stuck_clock"] is True and s["lose_clicks"] == 2 and s["failure_rate"] == 0.25
    assert s["phone_connected"] is False and s["auto_login"] == 4
    assert s["qr_rotate_seconds"] == 7 and s["qr_max_rotations"] == 3
    assert build_parser().parse_args([]).port == 8377


def test_own_number_is_the_default_account() -> None:
    from simulator.cli import simulator_from_args

    sim = simulator_from_args(build_parser().parse_args(["--port", "0", "--own-number", "+55 11 98765-4321"]))
    assert sim.settings["own_number"] == "+5511987654321"
    assert build_parser().parse_args([]).own_number == "+15550100000"


def test_serves_until_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--logged-in", "--lose-clicks", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line
        url = m.group(0)
        with urllib.request.urlopen(url + "__sim__/state", timeout=5) as r:
            state = json.loads(r.read())
        assert state["logged_in"] is True and state["settings"]["lose_clicks"] == 1
        with urllib.request.urlopen(url, timeout=5) as r:
            assert b'id="startup"' in r.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_banner_is_printed_still_stops_cleanly(sig: int) -> None:
    """The signal comes as soon as the address is out, the rest of the banner not yet."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "running at http://127.0.0.1:" in proc.stdout.readline()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
        assert (proc.returncode, err) == (0, "")
        assert out.rstrip().endswith("Simulator stopped.")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_incoming_flag_delivers_a_reply_with_an_unread_badge() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--port",
            "0",
            "--logged-in",
            "--incoming",
            "+1 555 123 4567=STOP",
            "--incoming-after",
            "0.2",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", proc.stdout.readline())
        assert m
        url = m.group(0)
        while "incoming message from +15551234567" not in proc.stdout.readline():
            pass
        with urllib.request.urlopen(url + "__sim__/unread", timeout=5) as r:
            assert json.loads(r.read()) == {"unread": {"+15551234567": 1}, "read_at": {}}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_port_in_use_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "Traceback" not in err
