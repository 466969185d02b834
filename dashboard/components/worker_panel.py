"""Supervisor and worker state: pids, uptime, restarts, CPU and memory sparklines,
login state, the message being sent and the next send time. With several accounts, the
worker of the account selected in the accounts table."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ..fmt import STATUS_STYLE, duration, one_line, sparkline
from ..snapshot import Snapshot, SupervisorDoc

HISTORY = 60


class WorkerPanel(Static):
    """The shown account's worker: its supervisor's figures (with CPU and memory history)
    and its worker row (state, login, the message being sent, the next send)."""

    BORDER_TITLE = "Worker"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(id="worker-panel", **kwargs)
        self.cpu: deque[float] = deque(maxlen=HISTORY)
        self.mem: deque[float] = deque(maxlen=HISTORY)
        self._last_doc: SupervisorDoc | None = None
        self.running = False
        self.supervisor_pid: int | None = None
        self._account: str | None = None

    @staticmethod
    def program(snap: Snapshot) -> SupervisorDoc:
        """The supervisor's figures for the shown account's worker (or its own, for one)."""
        sup = snap.supervisor or {}
        return (sup.get("workers") or {}).get(snap.account) or sup

    def apply(self, snap: Snapshot) -> None:
        sup = snap.supervisor or {}
        prog = self.program(snap)
        if snap.account != self._account:  # another account's worker: its own history
            self._account = snap.account
            self.cpu.clear()
            self.mem.clear()
        if sup and sup != self._last_doc and snap.supervisor_alive:
            self.cpu.append(float(prog.get("cpu_percent") or 0.0))
            self.mem.append(float(prog.get("memory_mb") or 0.0))
        self._last_doc = sup
        self.border_title = f"Worker · {snap.account}" if snap.many_accounts else "Worker"
        self.running = snap.supervisor_alive
        self.supervisor_pid = sup.get("pid") if snap.supervisor_alive else None
        self.update(self.render_table(snap))

    def render_table(self, snap: Snapshot) -> Table:
        """The panel's lines for this snapshot."""
        sup = snap.supervisor or {}
        prog = self.program(snap)
        w = snap.worker
        worker_state = w.state if w is not None else None
        info = (w.info if w is not None else None) or {}
        t = Table.grid(padding=(0, 1))
        t.add_column(style="bold", no_wrap=True)
        t.add_column(no_wrap=True, overflow="ellipsis")

        def st(value: str | None) -> Text:
            value = value or "-"
            return Text(value, style=STATUS_STYLE.get(value, ""))

        if snap.supervisor_alive:
            state = st(sup.get("state"))
            state.append(f"  pid {sup.get('pid')}", style="dim")
        elif sup.get("state") == "fatal":
            state = st("fatal")
        else:
            state = Text("not running", style="dim")
        t.add_row("Supervisor", state)
        acc = next((a for a in snap.accounts if a.name == snap.account), None)
        remote = acc is not None and acc.remote
        if acc is not None and acc.remote:  # another host's account: only its worker row is known here
            t.add_row(
                "Host",
                Text(acc.host, style="bold red" if acc.lost else "bold").append(
                    "  lost" if acc.lost else "  another host", style="red" if acc.lost else "dim"
                ),
            )
            t.add_row("", Text(one_line(acc.detail, 80), style="red" if acc.lost else "dim"))
        if snap.paused_all:
            t.add_row("Sending", Text("PAUSED (all) — P resumes", style="bold yellow"))
        if prog.get("state") == "fatal" and prog.get("fatal_reason"):
            t.add_row("", Text(one_line(prog["fatal_reason"], 60), style="red"))
        wstate = st(worker_state)
        if w is not None and worker_state != "stopped" and not remote:
            pid = prog.get("worker_pid") or w.pid
            if pid:
                wstate.append(f"  pid {pid}", style="dim")
        t.add_row("Worker", wstate)
        if worker_state == "needs_attention":  # first: it is why nothing is being sent
            t.add_row("Attention", Text(f"selector {info.get('key')}", style="bold red"))
            detail = str(info.get("detail") or "")
            if "self-repair failed:" in detail:
                why = detail.split("self-repair failed:", 1)[1].strip()
                t.add_row("", Text(one_line(f"self-repair failed: {why}", 80), style="red"))
            t.add_row("", Text("D: doctor · A: try again", style="red"))
        if snap.supervisor_alive and not remote:
            t.add_row("Uptime", Text(f"{duration(prog.get('uptime'))}  restarts {prog.get('restarts', 0)}"))
            cpu = prog.get("cpu_percent")
            mem = prog.get("memory_mb")
            t.add_row("CPU", Text(f"{cpu or 0:5.1f}% ").append(sparkline(self.cpu), style="cyan"))
            t.add_row("Memory", Text(f"{mem or 0:5.0f}M ").append(sparkline(self.mem), style="magenta"))
            if prog.get("browser_processes") is not None:
                t.add_row("Browser", Text(f"{prog.get('browser_processes')} processes"))
        login = info.get("login") or ("waiting for QR scan" if w is not None and w.qr else None)
        if w is not None and worker_state != "stopped":
            style = "green" if login in ("logged_in", "logged in") else "bold yellow"
            t.add_row("Login", Text(str(login or "-").replace("_", " "), style=style))
        cur = snap.current
        if cur:
            t.add_row("Now", Text(f"{cur['phone']} {one_line(cur.get('name'), 20)}"))
        nxt = info.get("next_send_at")
        if nxt and worker_state != "stopped":
            t.add_row("Next send", Text(f"in {duration(nxt - snap.at)}"))
        if info.get("detail") and worker_state not in ("stopped", "needs_attention"):
            t.add_row("", Text(one_line(info["detail"], 80), style="dim"))
        if not snap.supervisor_alive and not remote:
            t.add_row("", Text("w starts the worker", style="dim"))
        api = (sup.get("services") or {}).get("api") if snap.supervisor_alive else None
        if api:
            t.add_row("API", st(api.get("state")).append(f"  {api.get('url', '')}", style="dim"))
        dead = sum(int(o.get("dead") or 0) for o in snap.outbox.values())
        if dead:
            t.add_row("Webhooks", Text(f"{dead} dead letter(s): python tui.py webhooks --dead", style="bold red"))
        return t
