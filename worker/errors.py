"""The worker's exceptions, in one place: what the page raises (a selector that matched
nothing, the session gone, the network gone), what steers the loop (stop, restart), and the
user errors of its start (missing browser, profile in use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.errors import UserError

if TYPE_CHECKING:
    from .limits import Limit


class WorkerUserError(UserError):
    """A problem the user fixes (missing browser, profile in use, bad config): one line, exit 2."""


class SelectorNotFound(Exception):
    """None of the configured selectors of `key` matched in time."""

    def __init__(self, key: str, detail: str = "", dump: str | None = None) -> None:
        self.key = key
        self.detail = detail
        self.dump = dump
        msg = f"selector {key!r}: none of its configured selectors matched"
        if detail:
            msg += f" ({detail})"
        if dump:
            msg += f"; screenshot and page saved as {dump}.png/.html"
        super().__init__(msg)


class SendFailure(Exception):
    """Something went wrong before the send click (retryable)."""


class LoggedOut(Exception):
    """WhatsApp Web shows the QR code: the session was logged out."""


class PhoneDisconnected(Exception):
    """The "phone not connected" banner is shown."""


class Offline(Exception):
    """This computer cannot reach WhatsApp Web: a page load failed (name not resolved,
    connection refused or timed out...) or the app shows its "computer not connected"
    banner. A state to wait out, never a failure of the message or a crash."""

    def __init__(self, reason: str, *, page_failed: bool = False) -> None:
        self.reason = reason
        self.page_failed = page_failed  # the page itself did not load: it must be loaded again
        super().__init__(reason)


class Interrupted(Exception):
    """A pause, stop or job status change asked the current step to end."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)


class PermanentFailure(Exception):
    """A failure no retry can fix (e.g. the attachment file is missing): failed at once."""


class NotClicked(Exception):
    """The send control went stale before the click: WebDriver refuses a click on a stale
    element, so nothing was clicked (the page was redrawn, e.g. by "Use here")."""


class AccountLimited(Exception):
    """WhatsApp limits the account (a notice where the compose box was): not the message's
    fault and no broken selector. The message goes back to the queue, no attempt spent."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        super().__init__(limit.describe())


class BrowserDied(Exception):
    """The browser is gone: the worker exits and the supervisor starts it again."""


class StopNow(Exception):
    """A stop was asked for: the worker ends cleanly (exit 0)."""


class RestartNow(Exception):
    """The worker ends to be started again at once (exit 75), e.g. to read a new config."""
