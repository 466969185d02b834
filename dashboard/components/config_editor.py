"""Editing config.toml inside the app (`c`).

A TOML editor with syntax highlighting (tree-sitter, when textual[syntax] is installed).
Ctrl+S validates with settings.parse (an error names the key and line and nothing is
written), writes atomically (temporary file + os.replace in the same directory) and
asks the supervisor to restart the worker with the new config. A small form
changes the pacing keys through tomlkit, which keeps every comment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static, TextArea

from .confirm import ConfirmScreen

if TYPE_CHECKING:
    import settings

FORM_KEYS = (
    ("sending", "delay_min", float),
    ("sending", "delay_max", float),
    ("sending", "long_pause_every", int),
    ("sending", "daily_cap", int),
)


def toml_language() -> str | None:
    """'toml' when the tree-sitter TOML grammar is installed, else None (plain text)."""
    try:
        probe = TextArea("", language=None)
        return "toml" if "toml" in probe.available_languages else None
    except Exception:
        return None


def set_values(text: str, changes: dict[tuple[str, str], object]) -> str:
    """Change keys with tomlkit, keeping comments and layout."""
    import tomlkit

    doc = tomlkit.parse(text)
    for (section, key), value in changes.items():
        if section not in doc:
            doc[section] = tomlkit.table()
        doc[section][key] = value
    return tomlkit.dumps(doc)


def save_config(path: Path, text: str, running: settings.Config | None) -> settings.Config:
    """Validate, write whole (its mode kept), ask the running worker (of the config
    `running`, or of the new one) to restart. Raises settings.ConfigError."""
    import settings
    import supervisor
    from common import safefiles

    cfg = settings.parse(text, path)
    safefiles.write_atomic(path, text, what="config file", mode=None)
    supervisor.request_restart(running if running is not None else cfg)
    return cfg


class ConfigScreen(Screen[bool]):
    """The config file in an editor (and a small form for the pacing keys); Esc asks
    before it drops unsaved changes."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "reload", "Reload from disk"),
        Binding("ctrl+f", "form", "Form"),
        Binding("escape", "close", "Back"),
    ]

    def __init__(self, path: Path, *, running: settings.Config | None = None) -> None:
        super().__init__(id="config-screen")
        self.path = Path(path)
        self.running = running
        self.saved_text = ""

    def compose(self) -> ComposeResult:
        yield Static(f"Config: {self.path}", id="config-title")
        language = toml_language()
        yield TextArea.code_editor("", language=language, id="config-editor", soft_wrap=False)
        with Vertical(id="config-form"), Horizontal():
            for _section, key, _ in FORM_KEYS:
                yield Label(key)
                yield Input(id=f"form-{key}", classes="form-field")
        yield Static("", id="config-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_reload()

    @property
    def editor(self) -> TextArea:
        return self.query_one("#config-editor", TextArea)

    def _status(self, text: str, error: bool = False) -> None:
        box = self.query_one("#config-status", Static)
        box.set_class(error, "error")
        box.update(text)

    @work(thread=True, exclusive=True, group="config", name="read config", exit_on_error=False)
    def action_reload(self) -> None:
        text = self.path.read_text(encoding="utf-8")
        self.app.call_from_thread(self._loaded, text)

    def _loaded(self, text: str) -> None:
        self.saved_text = text
        self.editor.load_text(text)
        self._fill_form(text)
        lang = self.editor.language or "plain text (pip install 'textual[syntax]' for highlighting)"
        self._status(f"Ctrl+S saves (validated; the worker restarts to apply it) · Ctrl+F form · Esc back · {lang}")
        self.editor.focus()

    def _fill_form(self, text: str) -> None:
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return
        import settings

        defaults = settings.SendingSettings()
        for section, key, _ in FORM_KEYS:
            value = data.get(section, {}).get(key, getattr(defaults, key))
            self.query_one(f"#form-{key}", Input).value = str(value)

    def action_form(self) -> None:
        self.query_one(f"#form-{FORM_KEYS[0][1]}", Input).focus()

    @on(Input.Submitted, ".form-field")
    def _form_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        changes: dict[tuple[str, str], object] = {}
        for section, key, kind in FORM_KEYS:
            raw = self.query_one(f"#form-{key}", Input).value.strip()
            try:
                changes[(section, key)] = kind(raw)
            except ValueError:
                self._status(
                    f"{section}.{key}: {raw!r} is not a {'whole number' if kind is int else 'number'}", error=True
                )
                return
        try:
            text = set_values(self.editor.text, changes)
        except Exception as exc:
            self._status(f"cannot apply the form: {exc}", error=True)
            return
        self.editor.load_text(text)
        self.action_save()

    def action_save(self) -> None:
        self._save(self.editor.text)

    @work(thread=True, exclusive=True, group="config", name="save config", exit_on_error=False)
    def _save(self, text: str) -> None:
        import settings

        try:
            save_config(self.path, text, self.running)
        except settings.ConfigError as exc:
            self.app.call_from_thread(self._save_failed, str(exc))
            return
        except OSError as exc:
            self.app.call_from_thread(self._save_failed, f"{self.path}: cannot write: {exc}")
            return
        self.app.call_from_thread(self._saved, text)

    def _save_failed(self, text: str) -> None:
        self._status(f"Not saved: {text}", error=True)
        m = re.search(r"line (\d+)", text)
        if m:
            line = max(0, int(m.group(1)) - 1)
            self.editor.move_cursor((line, 0))
            self.editor.focus()

    def _saved(self, text: str) -> None:
        self.saved_text = text
        self._fill_form(text)
        self._status("Saved. The worker restarts to apply it.")
        self.app.notify("Config saved; the worker restarts to apply it", timeout=4)

    def action_close(self) -> None:
        if self.editor.text == self.saved_text:
            self.dismiss(False)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(False)

        self.app.push_screen(ConfirmScreen("Discard the unsaved changes to the config?"), answered)
