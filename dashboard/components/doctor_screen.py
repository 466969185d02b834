"""The selector doctor from the dashboard: runs `python tui.py doctor --json` with the
dashboard's run context (the worker lends it the browser meanwhile), shows the report,
and `w` writes the selectors it found and restarts the worker."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.markup import escape
from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    import settings

    from ..app import WaSenderApp

# The doctor's report is JSON (`tui.py doctor --json`): {"keys": [{"key", "state", "status",
# "fallback", "count", "visible", "note", "proposal"}, ...], "seconds": ...}; Any as JSON is.
Report = dict[str, Any]
Runner = Callable[["settings.RunContext"], Report]

PROJECT_DIR = Path(__file__).resolve().parents[2]
MARK = {
    "ok": ("ok", "green"),
    "failed": ("FAIL", "bold red"),
    "wrong": ("WRONG", "bold red"),
    "not seen": ("-", "dim"),
    "not checkable": ("n/a", "dim"),
}


def run_doctor(ctx: settings.RunContext) -> Report:
    """The doctor's JSON report (its own process: the dashboard never drives a browser)."""
    proc = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "tui.py"), *ctx.argv(), "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=PROJECT_DIR,
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise RuntimeError(lines[-1] if lines else f"the doctor exited with status {proc.returncode}")
    report: Report = json.loads(proc.stdout)
    return report


def winners(report: Report) -> dict[str, list[str]]:
    """The first proposal of every key the doctor found failing or wrong, to write first."""
    return {
        k["key"]: [k["proposal"][0]] for k in report["keys"] if k["status"] in ("failed", "wrong") and k["proposal"]
    }


class DoctorScreen(ModalScreen[None]):
    """Runs the doctor in a thread, shows its report; `w` writes what it found."""

    BINDINGS = [
        Binding("w", "write", "Write and restart"),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, ctx: settings.RunContext, runner: Runner = run_doctor) -> None:
        super().__init__(classes="dialog-screen")
        self.ctx = ctx
        self.runner = runner
        self.report: Report | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="doctor"):
            yield Static(
                "Selector doctor: checking every selector on the live page (nothing is sent)…", id="doctor-body"
            )

    def on_mount(self) -> None:
        self.check()

    @work(thread=True, exclusive=True, group="doctor", exit_on_error=False)
    def check(self) -> None:
        try:
            report = self.runner(self.ctx)
        except Exception as exc:  # shown in the screen: the dashboard goes on
            self.app.call_from_thread(
                self.query_one("#doctor-body", Static).update, f"[b red]The doctor could not run:[/] {escape(str(exc))}"
            )
            return
        self.app.call_from_thread(self.show, report)

    def show(self, report: Report) -> None:
        """Show the report: one line per selector key, then what `w` would write."""
        self.report = report
        table = Table(box=None, padding=(0, 1), show_edge=False)
        for col in ("key", "state", "", "match", "n", "vis", "note"):
            table.add_column(col, no_wrap=col != "note", overflow="ellipsis")
        for k in report["keys"]:
            mark, style = MARK[k["status"]]
            seen = k["status"] not in ("not seen", "not checkable")
            table.add_row(
                k["key"],
                k["state"],
                f"[{style}]{mark}[/]",
                f"#{k['fallback']}" if k["fallback"] else "-",
                str(k["count"]) if seen else "",
                ("yes" if k["visible"] else "no") if seen else "",
                escape(k["note"]),
            )
        fixes = winners(report)
        tail = f"\nChecked in {report['seconds']:.1f} s; nothing was sent.\n"
        if fixes:
            tail += "Found: " + ", ".join(fixes) + ".  [b]w[/b] writes them into the config and restarts the worker."
        else:
            tail += "Nothing to write."
        body = self.query_one("#doctor-body", Static)
        body.update(table)
        self.query_one("#doctor", VerticalScroll).mount(Static(tail, id="doctor-tail"))

    def action_write(self) -> None:
        """`w`: put the doctor's finds first in the config file (a backup is kept), restart
        the worker and end the attention stop on those keys, in a background thread."""
        if not self.report or not winners(self.report):
            self.app.notify("Nothing to write.", timeout=3)
            return
        found = winners(self.report)
        app = cast("WaSenderApp", self.app)  # only the dashboard opens this screen
        ctx, store = self.ctx, app.store  # the thread runs after this screen is gone

        def do() -> str:
            import settings
            import supervisor

            backup = settings.prepend_selectors(ctx.config_path, found)
            supervisor.request_restart(ctx)
            store.clear_attention(keys=list(found), why=f"the doctor wrote new selectors for {', '.join(found)}")
            # None when the file already listed them first: an error shown by run_bg, as
            # before (the restart and the clear above have happened).
            assert backup is not None, "the config file already lists these selectors first"
            return f"Wrote {', '.join(found)} (backup {backup.name}); the worker restarts to use them"

        app.run_bg("write selectors", do)
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
