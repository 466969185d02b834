"""The selected job's messages, one keyset page at a time, with a status filter and search.

The table holds at most one page (100 rows). Moving the cursor past the last row asks
for the next page, past the first row for the previous one; Home/End (g/G) jump to the
first/last page. The poller reads the page: this widget never touches the database.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input

from store.records import Message

from ..fmt import STATUS_STYLE, clock, number, one_line
from ..messages import FilterChanged, PageRequest
from ..snapshot import PageKey, Snapshot
from .difftable import Cells, DiffTable, styled

STATUSES = ("pending", "sending", "sent", "retrying", "failed", "invalid", "skipped", "unknown")

COLUMNS = [
    ("Phone", "phone", 15),
    ("Name", "name", 14),
    ("Status", "status", 8),
    ("Try", "attempts", 3),
    ("Sent at", "sent_at", 8),
    ("Last error", "error", None),
]


def parse_filter(text: str) -> tuple[str | None, str]:
    """'failed alice' -> ('failed', 'alice'); 'status:sent' and 'is:sent' work too."""
    status = None
    words = []
    for word in text.split():
        w = word.lower()
        for prefix in ("status:", "is:"):
            if w.startswith(prefix):
                w = w[len(prefix) :]
        if w in STATUSES and status is None:
            status = w
        else:
            words.append(word)
    return status, " ".join(words)


class MessagesTable(DiffTable):
    """One page of messages; the cursor keys past its first or last row ask for the page before or after."""

    BINDINGS = [
        Binding("down", "down_or_next", "Down", show=False),
        Binding("up", "up_or_prev", "Up", show=False),
        Binding("j", "down_or_next", "Down", show=False),
        Binding("k", "up_or_prev", "Up", show=False),
        Binding("pagedown", "page_next", "Next page", show=False),
        Binding("pageup", "page_prev", "Previous page", show=False),
        Binding("home,g", "page_first", "First page", show=False),
        Binding("end,G", "page_last", "Last page", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, id="messages", **kwargs)

    def action_down_or_next(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(PageRequest("next"))
        else:
            self.action_cursor_down()

    def action_up_or_prev(self) -> None:
        if self.cursor_row <= 0:
            self.post_message(PageRequest("prev"))
        else:
            self.action_cursor_up()

    def action_page_next(self) -> None:
        self.post_message(PageRequest("next"))

    def action_page_prev(self) -> None:
        self.post_message(PageRequest("prev"))

    def action_page_first(self) -> None:
        self.post_message(PageRequest("first"))

    def action_page_last(self) -> None:
        self.post_message(PageRequest("last"))


def message_cells(m: Message, now: float | None) -> Cells:
    return (
        m["phone"],
        one_line(m.get("name"), 30),
        styled(m["status"], STATUS_STYLE.get(m["status"])),
        str(m.get("attempts") or 0),
        clock(m.get("sent_at"), now),
        one_line(m.get("last_error"), 200),
    )


class MessagesPanel(Vertical):
    """A filter line (shown by `/`) above the messages table."""

    BORDER_TITLE = "Messages"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(id="messages-panel", **kwargs)
        self.status: str | None = None
        self.search = ""
        self._page_key: PageKey | None = None
        self._title_tail: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search phone or name; a status word (sent, failed…) filters; Esc clears", id="filter")
        yield MessagesTable()

    @property
    def table(self) -> MessagesTable:
        return self.query_one(MessagesTable)

    def open_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    def cycle_status(self) -> None:
        order = (None, *STATUSES)
        self.status = order[(order.index(self.status) + 1) % len(order)]
        self._changed()

    def _changed(self) -> None:
        self._update_title(None)
        self.post_message(FilterChanged(self.status, self.search))

    @on(Input.Submitted, "#filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.status, self.search = parse_filter(event.value)
        if not event.value.strip():
            event.input.remove_class("shown")
        self._changed()
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        status, search = parse_filter(event.value)
        if (status, search) != (self.status, self.search):
            self.status, self.search = status, search
            self._changed()

    def clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("shown")
        self.status, self.search = None, ""
        self._changed()
        self.table.focus()

    def _update_title(self, snap: Snapshot | None) -> None:
        """The border title: the job, the ids on the page, the count and the filter."""
        parts = ["Messages"]
        page = snap.page if snap is not None else None
        if snap is not None and page is not None:
            if page.job_id is None:
                parts.append("no job selected")
            else:
                job = next((j for j in snap.jobs if j["id"] == page.job_id), None)
                sent_by = f" (by {', '.join(job['accounts'])})" if job and job.get("accounts") else ""
                parts.append(f"job {page.job_id}{sent_by}")
                if page.rows:
                    span = f"ids {page.rows[0]['id']}–{page.rows[-1]['id']}"
                    if job and not self.search:
                        total = job["counts"].get(self.status, 0) if self.status else job["total"]
                        span += f" · {number(total)} {self.status or 'messages'}"
                    parts.append(span)
                else:
                    parts.append("no messages match")
                if job and job.get("window"):  # each contact's local hours
                    hours = f"window {job['window']} local"
                    if job.get("waiting"):
                        opens = clock(job.get("opens_at"), snap.at) if job.get("opens_at") else "?"
                        opens = opens[:5] if len(opens) == 8 else opens  # HH:MM today, MM-DD HH:MM after
                        hours += f" · {number(job['waiting'])} wait for their morning ({opens})"
                    parts.append(hours)
        elif self._title_tail:
            parts.extend(self._title_tail)
        if self.status:
            parts.append(f"status={self.status}")
        if self.search:
            parts.append(f"search={self.search!r}")
        if page is not None:
            self._title_tail = parts[1:3] if page.job_id is not None else parts[1:2]
        self.border_title = " · ".join(parts).replace("[", "\\[")

    def apply(self, snap: Snapshot) -> None:
        page = snap.page
        rows = [(str(m["id"]), message_cells(m, snap.at)) for m in page.rows]
        cursor: int | None = None
        if page.moved in ("next", "first"):
            cursor = 0
        elif page.moved in ("prev", "last"):
            cursor = -1
        elif page.key != self._page_key and page.job_id != (self._page_key or (None,))[0]:
            cursor = 0
        self._page_key = page.key
        self.table.sync(rows, cursor=cursor)
        self._update_title(snap)
