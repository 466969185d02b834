"""The new-job wizard (`n`): file → phone column → template → attachment → summary (each
contact's sending hours and the job's zone, the accounts that may send it when there are
several) → create.

Uses the same code as `python tui.py import`: contacts.read_contacts / Template /
plan_import, then jobs.importing.create_job_from_plan. Reading the file, planning the
import (with a progress bar) and creating the job run in background threads.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    ContentSwitcher,
    DataTable,
    DirectoryTree,
    Footer,
    Input,
    OptionList,
    ProgressBar,
    SelectionList,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from common import localhours
from jobs import importing

if TYPE_CHECKING:
    import settings
    from contacts.plan import ImportPlan
    from contacts.readers import ContactTable

    from ..storeview import DashboardStore

CONTACT_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".vcf"}
STEPS = ("file", "columns", "template", "attachment", "summary")
STEP_TITLES = {
    "file": "1/5 Contact file (CSV, XLSX, VCF)",
    "columns": "2/5 Columns: choose the phone column",
    "template": "3/5 Message template",
    "attachment": "4/5 Attachment (optional)",
    "summary": "5/5 Summary: sending hours (and, with several accounts, which may send it)",
}
PREVIEW_ROWS = 3
DEFAULT_TEMPLATE = "{Hi|Hello} {name}, "


class ContactTree(DirectoryTree):
    """A file picker that shows folders and contact files only."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in CONTACT_SUFFIXES)]


class NewJobScreen(Screen[int | None]):
    """The wizard; dismissed with the new job's id, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+n", "next", "Next"),
        Binding("ctrl+b", "back", "Back"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, cfg: settings.Config, store: DashboardStore, *, start_dir: Path | None = None) -> None:
        super().__init__(id="new-job")
        self.cfg = cfg
        self.store = store
        self.start_dir = start_dir or Path.cwd()
        self.step = "file"
        self.path: Path | None = None
        self.table: ContactTable | None = None
        self.phone_column: str | None = None
        self.template_text = DEFAULT_TEMPLATE
        self.template_ok = False
        self.attachment: Path | None = None
        self.plan: ImportPlan | None = None
        self.busy = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        """The five steps in a content switcher; only the current one is shown."""
        yield Static("", id="wizard-title")
        with ContentSwitcher(initial="file", id="wizard-steps"):
            with Vertical(id="file"):
                yield Static("Type a path or pick a file below (Enter on a file chooses it).", classes="step-help")
                yield Input(placeholder="path/to/contacts.csv", id="file-path")
                yield Static("", id="file-error", classes="step-error")
                yield ContactTree(self.start_dir, id="file-tree")
            with Vertical(id="columns"):
                yield Static("", id="columns-help", classes="step-help")
                yield OptionList(id="phone-column")
                yield Static("", id="columns-error", classes="step-error")
                yield DataTable(id="columns-preview", cursor_type="none", zebra_stripes=True)
            with Vertical(id="template"):
                yield Static(
                    "Write the message. {column} inserts a column, {name} the contact's name, "
                    "{phone} the number, {Hi|Hello} picks one at random. Ctrl+N when done.",
                    classes="step-help",
                )
                with Horizontal(id="template-row"):
                    yield TextArea(self.template_text, id="template-editor", soft_wrap=True, show_line_numbers=False)
                    with VerticalScroll(id="template-side"):
                        yield Static("", id="placeholders")
                        yield Static("", id="preview")
            with Vertical(id="attachment"):
                yield Static(
                    "A file sent with every message (image, video or document; the text becomes "
                    "its caption). Leave empty for none. Enter continues.",
                    classes="step-help",
                )
                yield Input(placeholder="(no attachment)", id="attachment-path")
                yield Static("", id="attachment-error", classes="step-error")
            with Vertical(id="summary"):
                yield ProgressBar(id="import-progress", show_eta=False)
                yield Static("", id="summary-text")
                yield Static(
                    "Each contact's local hours, e.g. 09:00-20:00 (empty: any time), and the job's time zone "
                    "for numbers without one:",
                    classes="step-help",
                )
                with Horizontal(id="job-hours"):
                    yield Input(placeholder="any time", id="job-window")
                    yield Input(placeholder=localhours.local_zone_name(), id="job-timezone")
                accounts = [a.name for a in self.cfg.enabled_accounts()]
                if len(accounts) > 1:
                    yield Static(
                        "Accounts that may send it (space ticks; none ticked: any account):", classes="step-help"
                    )
                    yield SelectionList[str](*[(name, name) for name in accounts], id="job-accounts")
                yield Static("Job name (Enter or Ctrl+N creates the job):", classes="step-help")
                yield Input(id="job-name")
                yield Static("", id="summary-error", classes="step-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show("file")
        self.query_one("#file-path", Input).focus()

    def _show(self, step: str) -> None:
        self.step = step
        self.query_one(ContentSwitcher).current = step
        title = " → ".join(f"[b]{STEP_TITLES[s]}[/b]" if s == step else s for s in STEPS)
        self.query_one("#wizard-title", Static).update(Text.from_markup(f"New job: {title}"))

    def _error(self, step: str, text: str) -> None:
        self.query_one(f"#{step}-error", Static).update(text)

    # ------------------------------------------------------------------ navigation
    def action_next(self) -> None:
        if self.busy:
            return
        if self.step == "file":
            self._choose_file(self.query_one("#file-path", Input).value)
        elif self.step == "columns":
            ol = self.query_one("#phone-column", OptionList)
            if ol.highlighted is not None:
                self._choose_column(ol.get_option_at_index(ol.highlighted).id)
        elif self.step == "template":
            self._template_done()
        elif self.step == "attachment":
            self._choose_attachment(self.query_one("#attachment-path", Input).value)
        elif self.step == "summary":
            self._create()

    def action_back(self) -> None:
        if self.busy:
            return
        i = STEPS.index(self.step)
        if i > 0:
            self._show(STEPS[i - 1])
            self._focus_step()

    def _focus_step(self) -> None:
        target = {
            "file": "#file-path",
            "columns": "#phone-column",
            "template": "#template-editor",
            "attachment": "#attachment-path",
            "summary": "#job-name",
        }[self.step]
        self.query_one(target).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    # ------------------------------------------------------------------ 1. file
    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one("#file-path", Input).value = str(event.path)
        self._choose_file(str(event.path))

    @on(Input.Submitted, "#file-path")
    def _file_typed(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose_file(event.value)

    def _choose_file(self, value: str) -> None:
        value = value.strip()
        if not value:
            self._error("file", "type a file path or pick one below")
            return
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.start_dir / path
        if not path.is_file():
            self._error("file", f"{path}: file not found")
            return
        self._error("file", "")
        self.path = path
        self.busy = True
        self._read_file(path)

    @work(thread=True, exclusive=True, group="wizard", name="read contacts", exit_on_error=False)
    def _read_file(self, path: Path, phone_column: str | None = None) -> None:
        from contacts import ContactsError, read_contacts

        try:
            table = read_contacts(path, phone_column=phone_column)
        except ContactsError as exc:
            self.app.call_from_thread(self._read_failed, str(exc))
            return
        self.app.call_from_thread(self._file_read, table)

    def _read_failed(self, text: str) -> None:
        self.busy = False
        self._error("file", text)

    def _file_read(self, table: ContactTable) -> None:
        self.busy = False
        self.table = table
        self.phone_column = table.phone_column or (table.columns[0] if table.columns else None)
        ol = self.query_one("#phone-column", OptionList)
        ol.clear_options()
        for col in table.columns:
            label = f"{col}  (detected phone column)" if col == table.phone_column else col
            ol.add_option(Option(label, id=col))
        if self.phone_column in table.columns:
            ol.highlighted = table.columns.index(self.phone_column)
        preview = self.query_one("#columns-preview", DataTable)
        preview.clear(columns=True)
        for col in table.columns:
            preview.add_column(("☎ " if col == self.phone_column else "") + col, key=col)
        for row in table.rows[:8]:
            preview.add_row(*[row.get(c, "") for c in table.columns])
        self.query_one("#columns-help", Static).update(
            f"{table.path.name}: {table.format}, {len(table.rows):,} rows, {len(table.columns)} columns. "
            "Enter on a column makes it the phone column and continues (the detected one is highlighted)."
        )
        self._error("columns", "")
        self._show("columns")
        ol.focus()

    # ------------------------------------------------------------------ 2. columns
    @on(OptionList.OptionSelected, "#phone-column")
    def _column_picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose_column(event.option.id)

    def _choose_column(self, column: str | None) -> None:
        if not column or self.table is None:
            return
        if column != self.table.phone_column:
            self.busy = True
            self._reread(column)
            return
        self.phone_column = column
        self._enter_template()

    @work(thread=True, exclusive=True, group="wizard", name="read contacts", exit_on_error=False)
    def _reread(self, column: str) -> None:
        from contacts import ContactsError, read_contacts

        assert self.path is not None  # a column is chosen after the file was read
        try:
            table = read_contacts(self.path, phone_column=column)
        except ContactsError as exc:
            self.app.call_from_thread(self._column_failed, str(exc))
            return
        self.app.call_from_thread(self._column_read, table)

    def _column_failed(self, text: str) -> None:
        self.busy = False
        self._error("columns", text)

    def _column_read(self, table: ContactTable) -> None:
        self.busy = False
        self.table = table
        self.phone_column = table.phone_column
        self._enter_template()

    def _enter_template(self) -> None:
        self._show("template")
        self._render_preview()
        editor = self.query_one("#template-editor", TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)

    # ------------------------------------------------------------------ 3. template
    @on(TextArea.Changed, "#template-editor")
    def _template_changed(self, event: TextArea.Changed) -> None:
        self.template_text = event.text_area.text
        self._render_preview()

    def _render_preview(self) -> None:
        """The placeholders the template may use and the first messages it renders (or
        its error), redrawn on every change of the template."""
        from contacts import ContactsError, Template, normalise_phone

        table = self.table
        assert table is not None  # the template step comes after the file was read
        cols = ", ".join("{" + c + "}" for c in table.columns) if table else ""
        side = Text()
        side.append("Columns: ", style="bold")
        side.append(f"{cols}, {{name}}, {{phone}}\n")
        preview = Text()
        try:
            tpl = Template(self.template_text)
            tpl.check(table.columns)
            render = tpl.bind(table.columns)
            side.append("Uses: ", style="bold")
            side.append(", ".join("{" + p + "}" for p in tpl.placeholders) or "no placeholders")
            if tpl.has_spintax:
                side.append("  (spintax: one option per message)")
            rng = random.Random(1)
            shown = 0
            for row in table.rows:
                if shown >= PREVIEW_ROWS:
                    break
                raw = row.get(table.phone_column, "")
                phone, _ = normalise_phone(raw, self.cfg.sending.default_region)
                if not phone:
                    continue
                text = render(row, table.name_of(row), phone, rng).strip()
                preview.append(f"→ {phone}\n", style="bold cyan")
                preview.append(text + "\n\n")
                shown += 1
            if not shown:
                preview.append("(no row with a valid number in the first rows)", style="dim")
            self.template_ok = bool(self.template_text.strip())
        except ContactsError as exc:
            self.template_ok = False
            preview.append(str(exc), style="bold red")
        self.query_one("#placeholders", Static).update(side)
        self.query_one("#preview", Static).update(Text("Preview of the first messages:\n", style="bold") + preview)

    def _template_done(self) -> None:
        if not self.template_ok:
            self.notify("Fix the template first (see the preview).", severity="warning", timeout=3)
            return
        self._show("attachment")
        self.query_one("#attachment-path", Input).focus()

    # ------------------------------------------------------------------ 4. attachment
    @on(Input.Submitted, "#attachment-path")
    def _attachment_typed(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose_attachment(event.value)

    def _choose_attachment(self, value: str) -> None:
        value = value.strip()
        if value:
            path = Path(value).expanduser()
            if not path.is_absolute():
                path = self.start_dir / path
            if not path.is_file():
                self._error("attachment", f"{path}: file not found")
                return
            self.attachment = path
        else:
            self.attachment = None
        self._error("attachment", "")
        self._show("summary")
        name = self.query_one("#job-name", Input)
        if not name.value and self.path is not None:
            name.value = self.path.stem
        self.plan = None
        self.query_one("#summary-text", Static).update("Checking every row…")
        self.busy = True
        self._plan()

    # ------------------------------------------------------------------ 5. summary
    @work(thread=True, exclusive=True, group="wizard", name="plan import", exit_on_error=False)
    def _plan(self) -> None:
        from contacts import ContactsError, plan_import

        bar = self.query_one("#import-progress", ProgressBar)
        assert self.path is not None  # the summary step comes after the file was read

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=max(total, 1), progress=done)

        try:
            plan = plan_import(
                self.path,
                self.template_text,
                region=self.cfg.sending.default_region,
                optouts=self.store.optout_set(),
                phone_column=self.phone_column,
                progress=progress,
            )
        except ContactsError as exc:
            self.app.call_from_thread(self._plan_failed, str(exc))
            return
        self.app.call_from_thread(self._planned, plan)

    def _plan_failed(self, text: str) -> None:
        self.busy = False
        self._error("summary", text)
        self.query_one("#summary-text", Static).update("")

    def _planned(self, plan: ImportPlan) -> None:
        """Show the plan: how many rows go where, the first problem rows, the attachment."""
        self.busy = False
        self.plan = plan
        s = plan.summary()
        text = Text()
        text.append(f"{plan.path.name}: {s['total_rows']:,} rows, phone column {plan.phone_column!r}\n\n", style="bold")
        for label, key, style in (
            ("to send", "queued", "green"),
            ("invalid", "invalid", "red"),
            ("duplicates", "duplicates", "yellow"),
            ("opted out", "opted_out", "yellow"),
            ("blank", "blank", "dim"),
        ):
            text.append(f"  {label:<11} ", style="bold")
            text.append(f"{s.get(key, 0):>9,}\n", style=style if s.get(key) else "")
        text.append(f"  attachment  {self.attachment.name if self.attachment else '(none)'}\n")
        problems = plan.problems()
        if problems:
            text.append("\nProblem rows:\n", style="bold")
            for kind, p in problems[:8]:
                text.append(f"  {p.line(kind)}\n")
            if len(problems) > 8:
                text.append(f"  … and {len(problems) - 8:,} more\n", style="dim")
        if not plan.messages:
            text.append("\nNo row has a valid number: nothing to send.", style="bold red")
        self.query_one("#job-name", Input).focus()
        # focus() takes effect later, on the app's queue: the summary is shown after it, so
        # that what a person types on seeing it goes to the name (under load, keys typed
        # at once went to the previous step's field).
        self.app.call_later(self.query_one("#summary-text", Static).update, text)

    @on(Input.Submitted, "#job-name, #job-window, #job-timezone")
    def _name_typed(self, event: Input.Submitted) -> None:
        event.stop()
        self._create()

    def _hours(self) -> tuple[localhours.Window | None, str] | None:
        """The window and zone typed in the summary, checked as `import` checks them (one
        line under the summary when wrong, nothing created)."""
        try:
            window = importing.parse_window(self.query_one("#job-window", Input).value, "window")
            zone = importing.check_timezone(self.query_one("#job-timezone", Input).value, "time zone")
        except importing.ImportOptionError as exc:
            self._error("summary", str(exc))
            return None
        return window, zone

    def _create(self) -> None:
        if self.busy:
            return
        if self.plan is None:
            self.notify("Still checking the file…", timeout=2)
            return
        if not self.plan.messages:
            self._error("summary", "no row has a valid number: nothing to send")
            return
        name = self.query_one("#job-name", Input).value.strip() or (self.path.stem if self.path else "job")
        hours = self._hours()
        if hours is None:
            return
        self.busy = True
        self.query_one("#summary-error", Static).update("Creating the job…")
        self._create_job(name, hours)

    def chosen_accounts(self) -> list[str]:
        picked = self.query("#job-accounts")
        return list(picked.first(SelectionList).selected) if picked else []

    @work(thread=True, exclusive=True, group="wizard", name="create job", exit_on_error=False)
    def _create_job(self, name: str, window_zone: tuple[localhours.Window | None, str]) -> None:
        from jobs.importing import create_job_from_plan

        assert self.plan is not None  # _create checked it
        hours = importing.local_hours(self.plan, *window_zone)
        accounts = self.app.call_from_thread(self.chosen_accounts)
        try:
            job_id = create_job_from_plan(
                self.store,
                self.plan,
                name=name,
                template=self.template_text,
                attachment=self.attachment,
                source_file=self.path,
                accounts=accounts,
                hours=hours,
            )
        except Exception as exc:
            self.app.call_from_thread(self._create_failed, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._created, job_id, name, hours)

    def _create_failed(self, text: str) -> None:
        self.busy = False
        self._error("summary", text)

    def _created(self, job_id: int, name: str, hours: importing.LocalHours | None = None) -> None:
        self.busy = False
        assert self.plan is not None  # the job was created from it
        text = f"Job {job_id} {name!r} created: {len(self.plan.messages):,} messages queued"
        if hours is not None and hours.window is not None:
            text += f", sent {hours.window} in each contact's local time"
            if hours.no_zone or hours.apart:
                text += f" ({hours.no_zone + hours.apart:,} in {hours.timezone}'s)"
        self.app.notify(text)
        self.dismiss(job_id)
