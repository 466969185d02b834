"""The WhatsApp Web simulator without a browser: its HTTP control API and ledger, its
settings, its server-side QR codes. (In a real browser: tests/e2e/test_simulator.py.)"""

from __future__ import annotations

import re
import time

import pytest

from simulator import Simulator


def test_http_control_api_and_ledger_shape(simulator: Simulator) -> None:
    import json
    import urllib.error
    import urllib.request

    def call(method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            simulator.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    assert simulator.url.startswith("http://127.0.0.1:")
    st = call("GET", "/__sim__/state")
    assert st["logged_in"] is False and st["qr"]["ref"].startswith("2@")
    assert re.fullmatch(r"2@[A-Za-z0-9+/=]+(,[A-Za-z0-9+/=]+){3}", st["qr"]["ref"])
    assert call("POST", "/__sim__/login")["logged_in"] is True
    cfg = call("POST", "/__sim__/config", {"invalid_suffix": "13", "ack_delay": 0, "lose_clicks": 2})
    assert cfg["invalid_suffix"] == "13" and cfg["lose_clicks"] == 2
    assert call("GET", "/__sim__/config")["ack_delay"] == 0
    with pytest.raises(urllib.error.HTTPError) as err:
        call("POST", "/__sim__/config", {"failure_rate": 2})
    assert err.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as err:
        call("POST", "/__sim__/config", {"no_such_setting": 1})
    assert err.value.code == 400
    assert call("GET", "/__sim__/config")["failure_rate"] == 0  # nothing half-applied
    ledger = call("GET", "/__sim__/ledger")
    assert ledger == {
        "messages": [],
        "page_loads": 0,
        "chat_opens": 0,
        "in_app_opens": 0,
        "url_opens": 0,
        "invalid_opens": 0,
        "failed_opens": 0,
        "lost_clicks": 0,
        "refused_browsers": 0,
        "offline_drops": 0,
    }
    assert call("POST", "/__sim__/use_here")["use_here"] is True
    assert call("POST", "/__sim__/logout")["logged_in"] is False
    call("POST", "/__sim__/reset")
    assert simulator.settings["invalid_suffix"] is None and simulator.settings["lose_clicks"] == 0


def test_stop_closes_kept_alive_connections() -> None:
    import http.client

    sim = Simulator(port=0, dom="2024").start()
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    conn.request("GET", "/__sim__/state")
    assert conn.getresponse().read()
    sim.stop()
    with pytest.raises((OSError, http.client.HTTPException)):
        conn.request("GET", "/__sim__/state")
        conn.getresponse().read()
    conn.close()


def test_configure_validates(simulator: Simulator) -> None:
    with pytest.raises(ValueError):
        simulator.configure(ack_delay=-1)
    with pytest.raises(ValueError):
        simulator.configure(stuck_clock="yes")
    with pytest.raises(ValueError):
        simulator.configure(invalid_suffix="1x")
    simulator.configure(invalid_numbers=["+1 555 000 1313"], phone_connected=False)
    assert simulator.settings["invalid_numbers"] == ["15550001313"]


def test_qr_rotates_then_expires_on_the_server() -> None:
    with Simulator(port=0, qr_rotate_seconds=0.1, qr_max_rotations=2, dom="2024") as sim:
        first = sim.get_state()["qr"]
        assert first["rotation"] == 0 and not first["expired"]
        time.sleep(0.12)
        second = sim.get_state()["qr"]
        assert second["rotation"] == 1 and second["ref"] != first["ref"]
        time.sleep(0.25)
        assert sim.get_state()["qr"]["expired"] is True
