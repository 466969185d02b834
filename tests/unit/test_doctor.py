"""The selector doctor's report: it reads in an 80-column terminal and says what to add.
(The doctor against the live page: tests/e2e/test_doctor.py.)"""

from __future__ import annotations

import settings
from worker.doctor import KeyReport, Report, format_report


def test_the_report_reads_in_80_columns_and_says_what_to_add() -> None:
    cfg = settings.parse("")
    keys = [
        KeyReport(
            "send_button",
            "compose+text",
            "failed",
            None,
            note="no configured selector matches",
            proposal=["#main footer span[data-icon='wds-ic-send-filled']"],
        ),
        KeyReport("compose_box", "open chat", "ok", 2, 1, True),
        KeyReport("qr_code", "login page", "not checkable", None, note="logged in: no QR page"),
    ]
    text = format_report(Report(keys, 3.2, "live", "+15550100000"), cfg)
    table = text.split("\n\n")[0].splitlines()
    assert all(len(line) <= 80 for line in table)
    assert "send_button = [\"#main footer span[data-icon='wds-ic-send-filled']\", " in text
    assert "nothing was sent" in text
