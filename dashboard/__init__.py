"""The Textual dashboard (`python tui.py`).

Only the CLI imports this package; it imports the job service (`jobs`), store,
supervisor, contacts and settings. Entry points: `run()` (the dashboard) and
`dashboard.demo.run_demo()` (`python tui.py demo`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common import dburl

if TYPE_CHECKING:
    import settings

    from .app import DemoLogin
    from .storeview import DashboardStore


def run(ctx: settings.RunContext, *, demo: DemoLogin | None = None) -> int:
    """Run the dashboard on this run context until the user quits; returns the exit status."""
    from store import ReadMostlyStore, Store

    from .app import WaSenderApp
    from .stopsignals import StopSignals, say

    cfg = ctx.cfg
    # An existing database is read without importing dataset first: a faster start.
    db = cfg.paths.database
    store: DashboardStore = ReadMostlyStore(db) if dburl.exists(db) else Store(db)
    app = WaSenderApp(ctx, store=store, demo=demo)
    # SIGHUP/SIGTERM quit as `q` does (the terminal restored, the detached worker left
    # running as documented) instead of killing the process mid-screen.
    with StopSignals() as stop:
        stop.then(app.leave_soon)
        app.run()
    if app.exit_note:
        say(app.exit_note)
    return int(app.return_code or 0)


__all__ = ["run"]
