"""Failure dumps (a screenshot and the page of a failing selector) are owner-only whatever
the umask, and bounded: the oldest go first. (What another local user can reach of a
running worker: tests/e2e/test_privacy.py.)"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


def test_failure_dumps_are_private_and_bounded(tmp_path: Path) -> None:
    from worker import page as page_mod

    class Driver:
        page_source = "<html>the whole chat list</html>"

        def save_screenshot(self, path: str) -> bool:
            Path(path).write_bytes(b"\x89PNG")
            return True

    class Cfg:
        class browser:
            whatsapp_url = "http://127.0.0.1:1"

        class paths:
            log_dir = tmp_path / "logs"

        def resolved_selectors(self) -> dict:
            return {}

        def words(self) -> dict:
            return {}

        def date_order(self) -> str:
            return "MDY"

    old = os.umask(0o022)
    try:
        page = page_mod.WhatsAppPage(Driver(), Cfg())
        for i in range(page_mod.MAX_DUMPS + 7):
            page.dump(f"key{i:03d}")
    finally:
        os.umask(old)
    dumps = sorted((tmp_path / "logs" / "failures").iterdir())
    assert len(dumps) == 2 * page_mod.MAX_DUMPS
    assert all(mode(p) == 0o600 for p in dumps)
    assert mode(tmp_path / "logs" / "failures") == 0o700
    assert not any("key000" in p.name for p in dumps)  # the oldest went first
