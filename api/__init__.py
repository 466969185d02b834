"""The HTTP API (`python tui.py serve`, docs/api.md): the job service, the store and the
contact reader over HTTP, for other systems (a CRM, a shop, an automation tool).

Every action calls the same code as the CLI and the dashboard (`jobs.service`,
`jobs.importing`, `contacts.plan_import`); nothing is decided here. Imports no worker,
dashboard, CLI or supervisor (checked by import-linter)."""

from .app import create_app

__all__ = ["create_app"]
