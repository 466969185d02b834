"""The Textual dashboard (`python tui.py`).

Nothing imports this package; it imports store, supervisor, contacts, config.
Entry points: `run()` (the dashboard) and `dashboard.demo.run_demo()` (`python tui.py demo`).
"""

from __future__ import annotations

from common import dburl


def run(ctx: object, *, demo: object | None = None) -> int:
    """Run the dashboard on this run context until the user quits; returns the exit status."""
    from store import ReadMostlyStore, Store

    from .app import WaSenderApp

    cfg = ctx.cfg  # type: ignore[attr-defined]
    # An existing database is read without importing dataset first: a faster start.
    db = cfg.paths.database
    store = ReadMostlyStore(db) if dburl.exists(db) else Store(db)
    app = WaSenderApp(ctx, store=store, demo=demo)
    app.run()
    if app.exit_note:
        print(app.exit_note)
    return int(app.return_code or 0)


__all__ = ["run"]
