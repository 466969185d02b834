"""The dashboard application: the main screen, its keys and the background poller."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from jobs.service import JobError, JobService
from store import ReadMostlyStore

from .components.accounts_table import AccountsTable
from .components.confirm import ConfirmScreen
from .components.events_log import EventsLog
from .components.export_modal import ExportScreen
from .components.help_screen import HelpScreen
from .components.jobs_table import JobsTable
from .components.log_screen import LogScreen
from .components.messages_table import MessagesPanel
from .components.qr_modal import QRScreen
from .components.worker_panel import WorkerPanel
from .messages import AccountSelected, FilterChanged, JobCreated, JobSelected, PageRequest, SnapshotReady
from .snapshot import Snapshot, SnapshotReader, SupervisorDoc, View

if TYPE_CHECKING:
    import settings
    from store.records import Job

    from .components.doctor_screen import Runner
    from .storeview import DashboardStore

QR_STALE = 60.0  # a worker row whose heartbeat is older than this is not waiting for anything


class DemoLogin(Protocol):
    """What the app asks of the demo (`dashboard.demo.Demo`): log the simulator in."""

    def login(self) -> None: ...


class WaSenderApp(App[int]):
    """The dashboard: jobs, the selected job's messages, the worker, the accounts and the
    events, refreshed by a poller thread that reads a `Snapshot` of the store; every key
    that changes something runs in a background thread (`run_bg`) and says what it did.
    Job decisions are the job service's; the supervisor is started detached, so quitting
    stops nothing."""

    CSS_PATH = "app.tcss"
    TITLE = "WhatsApp bulk sender"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("n", "new_job", "New"),
        Binding("p", "pause_job", "Pause"),
        Binding("s", "stop_job", "Stop"),
        Binding("w", "worker", "Worker"),
        Binding("P", "pause_all", "All", tooltip="Pause or resume all sending"),
        Binding("a", "pause_account", "Pause account", show=False),
        Binding("e", "export", "Export"),
        Binding("c", "config", "Config"),
        Binding("l", "log", "Log"),
        Binding("slash", "filter", "Find", tooltip="Filter the messages"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("r", "retry", "Retry failed", show=False),
        Binding("v", "review", "Review unknown", show=False),
        Binding("R", "replies", "Replies of the selected contact", show=False),
        Binding("A", "clear_attention", "Send again after a selector stop", show=False),
        Binding("D", "doctor", "Selector doctor", show=False),
        Binding("f", "cycle_status", "Status filter", show=False),
        Binding("L", "show_qr", "Login QR", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(
        self,
        ctx: settings.RunContext | settings.Config,
        *,
        store: DashboardStore | None = None,
        demo: DemoLogin | None = None,
        poll_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
        live: bool = True,
        supervisor_status: Callable[[], SupervisorDoc | None] | None = None,
        doctor: Runner | None = None,
    ) -> None:
        """`ctx`: the run context (config file and database) the dashboard shows and the
        supervisor it starts uses (a Config is taken as its own file and database).
        `supervisor_status`: the supervisor's published state, a JSON document (default:
        `supervisor.status`). `doctor`: what runs the selector doctor and returns its JSON
        report (default: `tui.py doctor --json`)."""
        super().__init__()
        from supervisor.core import as_context

        self.ctx: settings.RunContext = as_context(ctx)
        cfg = self.ctx.cfg
        self.cfg = cfg
        self.config_path = self.ctx.config_path
        if store is None:
            from store import Store

            store = Store(cfg.paths.database)
        self.store: DashboardStore = store
        self.service = JobService(store)  # every decision on a job is the job service's
        self.demo = demo
        self.poll_interval = poll_interval
        self.clock = clock
        self.live = live
        self.supervisor_status = supervisor_status or self._supervisor_status
        self.doctor = doctor
        self.view = View()
        self._wake = threading.Event()
        self._stopping = False
        self.snapshot: Snapshot | None = None
        self.refreshes = 0
        self.first_paint_at: float | None = None
        self.apply_ms: float = 0.0
        self.exit_note = ""
        # The demo's worker and simulator outlive it only when the user says so (`n`).
        self.keep_worker = False
        self._signal_loop: asyncio.AbstractEventLoop | None = None
        self._leave_asked = False
        self._qr_screen: QRScreen | None = None
        self._qr_hidden = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield JobsTable()
        yield MessagesPanel()
        with Horizontal(id="bottom"):
            yield WorkerPanel()
            with Vertical(id="bottom-right"):
                yield AccountsTable()
                yield EventsLog()
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.jobs.border_title = f"{self.title} · Jobs"
        self.messages_panel.border_title = "Messages"
        self.jobs.focus()
        self._size_classes()
        self.poll_loop()
        self._signal_loop = asyncio.get_running_loop()
        if self._leave_asked:
            self._finish()

    def on_resize(self) -> None:
        self._size_classes()

    def _size_classes(self) -> None:
        w, h = self.size
        self.screen.set_class(h >= 36, "tall")
        self.screen.set_class(w >= 110, "wide")

    @property
    def jobs(self) -> JobsTable:
        return self.query_one(JobsTable)

    @property
    def messages_panel(self) -> MessagesPanel:
        return self.query_one(MessagesPanel)

    @property
    def worker_panel(self) -> WorkerPanel:
        return self.query_one(WorkerPanel)

    # ------------------------------------------------------------------ the poller
    @work(thread=True, exclusive=True, group="poller", name="poller", exit_on_error=False)
    def poll_loop(self) -> None:
        """Read a snapshot of what is on screen every poll_interval (or at once when woken)."""
        me = get_current_worker()
        reader = SnapshotReader(self.store, cfg=self.cfg, clock=self.clock, supervisor_status=self.supervisor_status)
        failures = 0
        while not me.is_cancelled and not self._stopping:
            self._wake.clear()
            try:
                snap = reader.read(self.view)
                failures = 0
            except Exception as exc:  # a locked or missing database must not kill the screen
                failures += 1
                if failures in (1, 10) and not self._stopping:
                    self.call_from_thread(self.notify, f"cannot read the database: {exc}", severity="error", timeout=6)
                self._wake.wait(min(5.0, self.poll_interval * failures))
                continue
            if me.is_cancelled or self._stopping:
                return
            try:
                self.call_from_thread(self.post_message, SnapshotReady(snap))
            except RuntimeError:
                return  # the app is shutting down
            if not self.live:
                self._wake.wait()
            else:
                self._wake.wait(self.poll_interval)

    def _supervisor_status(self) -> SupervisorDoc | None:
        import supervisor

        return supervisor.status(self.cfg, store=self.store)

    def refresh_now(self) -> None:
        self._wake.set()

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        """Show a snapshot the poller read: every panel at once (the messages only when the
        page is still the one asked for), then the QR modal if a login waits."""
        t0 = time.perf_counter()
        snap = message.snapshot
        if self._stopping or not self.screen_stack:
            return
        try:
            self.query_one(JobsTable)
        except NoMatches:  # shutting down: the main screen is gone
            return
        self.snapshot = snap
        page = snap.page
        current_view = (self.view.job_id, self.view.status, self.view.search)
        with self.batch_update():
            self.jobs.apply(snap)
            if (page.job_id, page.status, page.search) == current_view:
                self.messages_panel.apply(snap)
            self.worker_panel.apply(snap)
            self.query_one(AccountsTable).apply(snap)
            self.query_one(EventsLog).add(snap.events, snap.at)
        self._check_qr(snap)
        self.refreshes += 1
        self.apply_ms = (time.perf_counter() - t0) * 1000
        if self.first_paint_at is None:
            self.first_paint_at = time.perf_counter()
            if isinstance(self.store, ReadMostlyStore):
                self.set_timer(0.3, self._warm_store)

    @work(thread=True, group="warm", exit_on_error=False)
    def _warm_store(self) -> None:
        """Painted from the read-only connection: now open the writer (dataset, SQLAlchemy),
        after the first frame is on screen, so the first key that writes doesn't wait."""
        try:
            if isinstance(self.store, ReadMostlyStore):  # the only store with a writer to open
                self.store.warm()
        except Exception as exc:
            self.call_from_thread(
                self.notify, f"cannot open the database for writing: {exc}", severity="error", timeout=6
            )

    # ------------------------------------------------------------------ selection and paging
    @on(JobSelected)
    def _job_selected(self, message: JobSelected) -> None:
        with self.view.lock:
            if self.view.job_id == message.job_id:
                return
            self.view.job_id = message.job_id
            self.view.nav.clear()
        self.refresh_now()

    @on(AccountSelected)
    def _account_selected(self, message: AccountSelected) -> None:
        with self.view.lock:
            if self.view.account == message.account:
                return
            self.view.account = message.account
        self.refresh_now()

    @on(PageRequest)
    def _page(self, message: PageRequest) -> None:
        with self.view.lock:
            self.view.nav.append(message.direction)
        self.refresh_now()

    @on(FilterChanged)
    def _filter(self, message: FilterChanged) -> None:
        with self.view.lock:
            self.view.status = message.status
            self.view.search = message.search
            self.view.nav.clear()
            self.view.nav.append("first")
        self.refresh_now()

    @on(JobCreated)
    def _created(self, message: JobCreated) -> None:
        self.refresh_now()
        self.set_timer(0.3, partial(self._select_job, message.job_id))

    def _select_job(self, job_id: int, tries: int = 10) -> None:
        if str(job_id) in self.jobs.keys:
            self.jobs.select_job(job_id)
        elif tries:
            self.set_timer(0.2, partial(self._select_job, job_id, tries - 1))

    # ------------------------------------------------------------------ QR login
    def _waiting_logins(self, snap: Snapshot) -> list[tuple[str, str]]:
        """(account, QR string) of every worker that shows a fresh QR, in config order."""
        out: list[tuple[str, str]] = []
        names = [a.name for a in snap.accounts] or list(snap.workers)
        for name in names:
            row = snap.workers.get(name)
            if row is None:
                continue
            fresh = (snap.at - (row.heartbeat_at or 0)) < QR_STALE
            if row.qr and row.state != "stopped" and fresh:
                out.append((name, row.qr))
        if not snap.accounts and snap.worker and not out:  # a store read without a config
            w = snap.worker
            if w.qr and w.state != "stopped" and (snap.at - (w.heartbeat_at or 0)) < QR_STALE:
                out.append((w.account or "default", w.qr))
        return out

    def _check_qr(self, snap: Snapshot) -> None:
        waiting = dict(self._waiting_logins(snap))
        shown = self._qr_screen
        if shown is not None and shown.account_key in waiting:
            shown.set_data(waiting[shown.account_key])
            return
        if shown is not None:  # its account logged in
            self._qr_screen = None
            shown.dismiss(None)
            self.notify(f"Logged in to WhatsApp{f' ({shown.account_key})' if snap.many_accounts else ''}", timeout=4)
        if not waiting:
            self._qr_hidden = False
        elif not self._qr_hidden:
            name, data = next(iter(waiting.items()))
            self._open_qr(data, name, snap.many_accounts)

    def _open_qr(self, data: str, account: str, many: bool) -> None:
        login = getattr(self.demo, "login", None)
        screen = QRScreen(
            data,
            on_scan=(lambda: self._demo_login(login)) if login else None,
            style=self.cfg.dashboard.qr_style,
            account=account if many else None,
        )
        screen.account_key = account
        self._qr_screen = screen

        def closed(_: None) -> None:
            if self._qr_screen is screen:  # closed by the user, not by a login
                self._qr_screen = None
                self._qr_hidden = True

        self.push_screen(screen, closed)

    @work(thread=True, group="actions", name="demo login", exit_on_error=False)
    def _demo_login(self, login: Callable[[], object]) -> None:
        login()
        self.refresh_now()

    def action_show_qr(self) -> None:
        snap = self.snapshot
        waiting = self._waiting_logins(snap) if snap else []
        if self._qr_screen is not None:
            return
        if snap is None or not waiting:
            self.notify("No worker is waiting for a login.", timeout=3)
            return
        # The selected account's code when it waits, else the first one that waits.
        name, data = next(((n, d) for n, d in waiting if n == snap.account), waiting[0])
        self._qr_hidden = False
        self._open_qr(data, name, snap.many_accounts)

    # ------------------------------------------------------------------ background actions
    def run_bg(self, name: str, fn: Callable[[], str | None]) -> Worker[str | None]:
        """Run `fn` (store or file I/O) in a thread; its returned text is shown when done."""
        return self.run_worker(fn, name=name, group="actions", thread=True, exit_on_error=False)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR:
            error = worker.error
            from store import IllegalTransition

            text = (
                str(error)
                if isinstance(error, (IllegalTransition, JobError, OSError, KeyError, ValueError))
                else f"{type(error).__name__}: {error}"
            )
            self.notify(f"{worker.name}: {text}", severity="error", timeout=8)
            self.refresh_now()
        elif event.state == WorkerState.SUCCESS and worker.group == "actions":
            if isinstance(worker.result, str) and worker.result:
                self.notify(worker.result, timeout=5)
            self.refresh_now()

    def selected_job(self) -> Job | None:
        job_id = self.jobs.selected_job_id()
        if job_id is None or self.snapshot is None:
            return None
        return next((j for j in self.snapshot.jobs if j["id"] == job_id), None)

    def _need_job(self) -> Job | None:
        job = self.selected_job()
        if job is None:
            self.notify("No job selected: press n to create one.", severity="warning", timeout=3)
        return job

    # ------------------------------------------------------------------ keys
    def action_new_job(self) -> None:
        from .components.new_job import NewJobScreen

        def done(job_id: int | None) -> None:
            if job_id:
                self.post_message(JobCreated(job_id))

        self.push_screen(NewJobScreen(self.cfg, self.store), done)

    def action_pause_job(self) -> None:
        job = self._need_job()
        if job is None:
            return
        self.run_bg(f"pause or resume job {job['id']}", lambda: self.service.toggle_pause(job["id"]).text)

    def action_stop_job(self) -> None:
        """`s`: stop the selected job for good, after asking."""
        job = self._need_job()
        if job is None:
            return
        from jobs.service import can_move

        if not can_move(job["status"], "stopped"):
            self.notify(f"Job {job['id']} is {job['status']}: it cannot be stopped.", severity="warning", timeout=4)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_bg(f"stop job {job['id']}", lambda: self.service.stop(job["id"]).text)

        self.push_screen(
            ConfirmScreen(
                f"Stop job {job['id']} {job['name']!r} for good?",
                "Its unsent messages will never be sent. Pause (p) can be undone; stop cannot.",
            ),
            answered,
        )

    def action_retry(self) -> None:
        job = self._need_job()
        if job is None:
            return

        def do() -> str:
            n = self.service.retry(job["id"])
            return f"Job {job['id']}: {n} failed message(s) queued again"

        self.run_bg(f"retry job {job['id']}", do)

    def action_review(self) -> None:
        """`v`: decide on the selected `unknown` message (it is in the chat, or send it again)."""
        from .components.review_modal import ReviewScreen

        key = self.messages_panel.table.selected_key()
        row = self.store.message(int(key)) if key is not None else None
        if row is None or row["status"] != "unknown":
            self.notify(
                "v decides on an `unknown` message: select one (f filters by status).", severity="warning", timeout=4
            )
            return
        mid = row["id"]

        def decided(decision: str | None) -> None:
            if decision is None:
                return

            def do() -> str:
                self.service.review([mid] if decision == "sent" else [], [] if decision == "sent" else [mid])
                return f"Message {mid}: " + ("marked sent" if decision == "sent" else "queued again")

            self.run_bg(f"review message {mid}", do)

        self.push_screen(ReviewScreen(row, self.clock()), decided)

    def action_replies(self) -> None:
        from .components.replies_modal import RepliesScreen

        key = self.messages_panel.table.selected_key()
        row = self.store.message(int(key)) if key is not None else None
        if row is None:
            self.notify("R shows a contact's replies: select a message first.", severity="warning", timeout=4)
            return
        self.push_screen(RepliesScreen(row, self.store.replies(row["job_id"], phone=row["phone"]), self.clock()))

    def action_doctor(self) -> None:
        from .components.doctor_screen import DoctorScreen, run_doctor

        self.push_screen(DoctorScreen(self.ctx, self.doctor or run_doctor))

    def action_clear_attention(self) -> None:
        def do() -> str:
            cleared = self.store.clear_attention(why="sending resumed by hand from the dashboard")
            if not cleared:
                return "Sending is not stopped."
            return f"Sending again: {', '.join(cleared)}"

        self.run_bg("clear attention", do)

    def supervisor_running(self) -> bool:
        return bool(self.snapshot and self.snapshot.supervisor_alive)

    def action_worker(self) -> None:
        """`w`: start the supervisor detached, restart it from `fatal`, or stop it (after asking)."""
        sup = (self.snapshot.supervisor if self.snapshot else None) or {}
        if self.supervisor_running() and sup.get("state") == "fatal":
            self.run_bg("restart worker", self._start_worker)  # a manual start clears fatal
        elif self.supervisor_running():
            pid = self.worker_panel.supervisor_pid

            def answered(yes: bool | None) -> None:
                if yes:
                    self.run_bg("stop worker", self._stop_worker)

            self.push_screen(
                ConfirmScreen(
                    f"Stop the worker (supervisor pid {pid})?",
                    "Sending stops after the current message; w starts it again.",
                ),
                answered,
            )
        else:
            self.run_bg("start worker", self._start_worker)

    def _start_worker(self) -> str:
        import supervisor

        try:
            pid = supervisor.start_detached(self.ctx)
        except supervisor.AlreadyRunning as exc:
            return str(exc)
        return f"Worker started (supervisor pid {pid})"

    def _stop_worker(self) -> str:
        import supervisor

        stopped = supervisor.stop(self.cfg, timeout=self.cfg.supervisor.stop_timeout + 5)
        return "Worker stopped" if stopped else "The worker did not stop in time"

    def action_pause_all(self) -> None:
        def do() -> str:
            import supervisor

            if supervisor.paused(self.cfg):
                supervisor.pause_all(self.cfg, on=False)
                return "Sending resumed (run/pause removed)"
            supervisor.pause_all(self.cfg, on=True)
            return "All sending paused (run/pause); P resumes"

        self.run_bg("pause all", do)

    def action_pause_account(self) -> None:
        """`a`: pause or resume the selected account (this host's only: another host's is
        paused there)."""
        snap = self.snapshot
        name = snap.account if snap else None
        if snap is None or name is None:
            self.notify("No account.", timeout=3)
            return
        row = next((a for a in snap.accounts if a.name == name), None)
        if row is not None and row.remote:
            self.notify(
                f"Account {name} runs on host {row.host}: pause it there (its run/accounts/{name}/pause "
                "file); jobs pause here for every host (p)",
                timeout=6,
            )
            return

        def do() -> str:
            import supervisor

            on = not supervisor.account_paused(self.cfg, name)
            if not on and supervisor.paused(self.cfg):
                return f"All sending is paused (P resumes it); account {name} stays paused with it"
            supervisor.pause_account(self.cfg, name, on)
            return f"Account {name} {'paused' if on else 'sends again'}"

        self.run_bg("pause account", do)

    def action_export(self) -> None:
        job = self._need_job()
        if job is None:
            return

        def chosen(path: Path | None) -> None:
            if path is None:
                return

            def do() -> str:
                from jobs.exporting import export_job_csv

                n = export_job_csv(self.store, job["id"], path)
                return f"Wrote {n:,} rows to {path}"

            self.run_bg(f"export job {job['id']}", do)

        self.push_screen(ExportScreen(job), chosen)

    def action_config(self) -> None:
        from .components.config_editor import ConfigScreen

        self.push_screen(ConfigScreen(Path(self.config_path), running=self.cfg))

    def action_log(self) -> None:
        self.push_screen(LogScreen(self.store, Path(self.cfg.paths.log_dir)))

    def action_filter(self) -> None:
        self.messages_panel.open_filter()

    def action_cycle_status(self) -> None:
        self.messages_panel.cycle_status()

    def action_clear_filter(self) -> None:
        panel = self.messages_panel
        if panel.status or panel.search or panel.query_one("#filter").has_class("shown"):
            panel.clear_filter()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        if self.demo is not None:

            def answered(stop_all: bool | None) -> None:
                self.keep_worker = not stop_all
                self._finish()

            self.push_screen(
                ConfirmScreen(
                    "Quit the demo: stop its worker and simulator too?",
                    "y/Enter: stop everything and delete the demo files.  "
                    "n: leave the worker running in the background.",
                ),
                answered,
            )
            return
        self._finish()

    def leave_soon(self) -> None:
        """Quit without asking (the terminal is gone, or we were told to stop); the demo
        stops everything. Safe in a signal handler: it only schedules the quit."""
        loop = self._signal_loop
        if loop is None:
            self._leave_asked = True  # on_mount quits
        else:
            loop.call_soon_threadsafe(self._finish)

    def _finish(self) -> None:
        if self._stopping:
            return
        running = self.supervisor_running()
        pid = self.worker_panel.supervisor_pid
        if self.demo is not None and not self.keep_worker:
            self.exit_note = "Demo stopped."
        elif running:
            self.exit_note = (
                f"Dashboard closed. The worker keeps running in the background (supervisor pid "
                f"{pid}); run `python tui.py` to watch it, press w there to stop it."
            )
        else:
            self.exit_note = "Dashboard closed. The worker is not running."
        self._stopping = True
        self._wake.set()
        self.exit(0)

    def on_unmount(self) -> None:
        self._signal_loop = None  # about to close: a late signal is the caller's to handle
        self._stopping = True
        self._wake.set()

    # ------------------------------------------------------------------ command palette
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not self.screen_stack or screen is not self.screen_stack[0]:
            return
        for title, help_, action in COMMANDS:
            yield SystemCommand(title, help_, getattr(self, f"action_{action}"))


COMMANDS: list[tuple[str, str, str]] = [
    ("New job", "n: import a contact file and create a job", "new_job"),
    ("Pause / resume job", "p: pause or resume the selected job", "pause_job"),
    ("Stop job", "s: stop the selected job for good (asks first)", "stop_job"),
    ("Pause / resume account", "a: pause or resume the account selected in the accounts table", "pause_account"),
    ("Retry failed messages", "r: queue the selected job's failed messages again", "retry"),
    ("Review an unknown message", "v: it was sent, or send it again", "review"),
    ("Send again after a selector stop", "A: clear needs_attention", "clear_attention"),
    ("Selector doctor", "D: check every selector on the live page and fix the broken ones", "doctor"),
    ("Start / stop worker", "w: start the supervised worker, or stop it", "worker"),
    ("Pause / resume all sending", "P: the run/pause signal file", "pause_all"),
    ("Export results", "e: write the selected job's results to CSV", "export"),
    ("Edit config", "c: edit config.toml; saving restarts the worker", "config"),
    ("Full log", "l: every recent event and the log file", "log"),
    ("Filter messages", "/: search by phone or name, or a status word", "filter"),
    ("Show login QR", "L: the QR code when the worker waits for login", "show_qr"),
    ("Keys", "?: every key of the dashboard", "help"),
]
