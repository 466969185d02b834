"""Self-repair: when WhatsApp Web changes its page, the worker repairs its selectors by
itself and sends again, without a person (docs/whatsapp-dom.md, "When WhatsApp changes
its page").

When the line stops on a selector key (worker/attention.py), and `[heal] enabled`:

1. Is it a selector problem at all? A logged-out, offline or disconnected session is
   not (the session's own states handle it); nor is an account limit: those are never
   "repaired".
2. Within `max_probes_per_hour` probes (counted per account in the store), the doctor
   runs in the worker's own browser with a probe: one short text to the account's own
   chat, never to a contact, proves compose -> send -> bubble -> tick with the candidates.
3. The proven winners are written first in their keys' lists in config.toml (tomlkit,
   comments kept, a backup beside it, under a lock, never a file that does not load); the
   worker reads them at once; every repair is an event (`selectors_repaired`: keys, old and
   new selectors) and a log line.
4. The messages the stop held as `unknown` are verified again with the repaired
   selectors (never sent again on a doubt), then sending resumes.

When no candidate passes, the line stays stopped and says why ("self-repair failed: …")
in the log, `status`, `status --json` and the dashboard. A worker killed in the middle of a
repair leaves the old config or the new one, whole (the write is atomic); the stop's
document still says `running`, and the next worker starts the repair again.

Keys that fail only while reading replies (the chat list, a contact's bubbles) are
repaired the same way without a probe: the live page proves them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from selenium.common.exceptions import WebDriverException

import settings
from common.errors import UserError
from store.states import WorkerState as W

from . import doctor
from .context import WorkerContext
from .errors import Interrupted
from .health import AccountWatch
from .session import Session
from .verify import Verifier

log = logging.getLogger("worker")

PROBES_DOC = "heal_probes:"  # + account: the times of its probes (the hourly budget)
HOUR = 3600.0


class Healer:
    """Repairs the selectors of one account's worker (see the module's docstring)."""

    def __init__(
        self, ctx: WorkerContext, session: Session, verifier: Verifier, watch: AccountWatch | None = None
    ) -> None:
        self.ctx = ctx
        self.session = session
        self.verifier = verifier
        self.watch = watch  # a limit on the account is never repaired as a selector

    # ------------------------------------------------------------------ the budget
    def probes_last_hour(self) -> list[float]:
        times = self.ctx.store.get_doc(PROBES_DOC + self.ctx.account) or []
        now = time.time()
        return [t for t in times if isinstance(t, (int, float)) and now - t < HOUR]

    def _spend_probe(self) -> None:
        times = [*self.probes_last_hour(), time.time()]
        self.ctx.store.put_doc(PROBES_DOC + self.ctx.account, times)

    def budget_left(self) -> int:
        return self.ctx.cfg.heal.max_probes_per_hour - len(self.probes_last_hour())

    # ------------------------------------------------------------------ the line stop
    def should_repair(self, doc: dict[str, Any]) -> bool:
        """A stop this worker may repair now: enabled, not failed already, a probe left."""
        heal = doc.get("heal") or {}
        if not self.ctx.cfg.heal.enabled or heal.get("state") == "failed":
            return False
        if self.budget_left() <= 0:
            if heal.get("state") != "waiting":
                self._note(
                    doc,
                    "waiting",
                    f"the probe budget ({self.ctx.cfg.heal.max_probes_per_hour} an hour) "
                    "is used up: the repair waits for the next probe",
                )
            return False
        return True

    def _note(self, doc: dict[str, Any], state: str, reason: str = "") -> None:
        doc["heal"] = {"state": state, "reason": reason, "at": time.time(), "enabled": self.ctx.cfg.heal.enabled}
        self.ctx.store.update_attention(self.ctx.account, doc)

    def repair_line(self, doc: dict[str, Any]) -> bool:
        """Repair the keys of this line stop. True when sending may resume."""
        ctx = self.ctx
        page = ctx.need_page()
        why_not = self.not_a_selector_problem()
        if why_not:
            log.info("the line stop waits: %s (not a selector problem)", why_not)
            return False
        keys = sorted((doc.get("keys") or {doc["key"]: doc.get("detail", "")}).keys())
        self._note(doc, "running")
        ctx.hb.set(
            W.REPAIRING,
            current_message_id=None,
            detail=f"repairing selectors {', '.join(keys)} (a probe on the account's own chat)",
        )
        log.info("self-repair of %s: probing the account's own chat", ", ".join(keys))
        self._spend_probe()
        try:
            report = doctor.examine(
                ctx.cfg,
                page.driver,
                probe=True,
                load=False,
                own_name=page.own_name,
                say=lambda m: log.info("self-repair: %s", m),
            )
        except (UserError, WebDriverException, Interrupted) as exc:
            reason = str(exc).removeprefix("probe: ")
            if isinstance(exc, WebDriverException):
                reason = f"the browser failed during the probe ({exc.__class__.__name__})"
            return self._failed(doc, reason)
        return self._apply(doc, keys, report, probe=True)

    def repair_keys(self, keys: list[str], *, chat: str | None = None) -> bool:
        """Keys that kept failing while reading replies: proven on the live page, no probe;
        `chat`: the contact's chat where their bubbles were missed (else the own chat)."""
        ctx = self.ctx
        if not ctx.cfg.heal.enabled:
            return False
        page = ctx.need_page()
        ctx.hb.set(W.REPAIRING, current_message_id=None, detail=f"repairing selectors {', '.join(keys)}")
        try:
            report = doctor.examine(
                ctx.cfg,
                page.driver,
                probe=False,
                load=False,
                own_name=page.own_name,
                number=chat,
                say=lambda m: log.info("self-repair: %s", m),
            )
        except (UserError, WebDriverException) as exc:
            log.warning("self-repair of %s failed: %s", ", ".join(keys), exc)
            return False
        winners = {k: v for k, v in report.winners().items() if k in keys}
        if not winners:
            log.warning(
                "self-repair of %s: no candidate passed on the live page; reading by meaning goes on", ", ".join(keys)
            )
            ctx.store.log_event(
                "repair_failed",
                f"account {ctx.account}: no working selector found for "
                f"{', '.join(keys)}; the page is read by meaning meanwhile",
                level="warning",
            )
            return False
        self._write(winners, report)
        return True

    # ------------------------------------------------------------------ parts
    def not_a_selector_problem(self) -> str | None:
        """Why this stop is not for selectors: the session is not usable."""
        try:
            login = self.ctx.need_page().session()["login"]
        except WebDriverException:
            return "the browser does not answer"
        if login != "logged_in":
            return f"the session is {login}"
        return self.watch.why_not_selectors() if self.watch is not None else None

    def _failed(self, doc: dict[str, Any], reason: str) -> bool:
        ctx = self.ctx
        self._note(doc, "failed", reason)
        log.error(
            "self-repair failed: %s; sending stays stopped until a person fixes [selectors] %s or clears "
            "the stop (python tui.py attention --clear)",
            reason,
            doc["key"],
        )
        ctx.store.log_event(
            "repair_failed",
            f"account {ctx.account}: self-repair failed: {reason}; sending stays stopped (selector {doc['key']!r})",
            level="error",
        )
        return False

    def _apply(self, doc: dict[str, Any], keys: list[str], report: doctor.Report, *, probe: bool) -> bool:
        ctx = self.ctx
        winners = report.winners(proven_only=probe)
        broken = [k for k in keys if (r := report.get(k)) is not None and r.needs_fix]
        missing = [k for k in broken if k not in winners]
        if missing:
            notes = "; ".join(f"{k}: {r.note}" for k in missing if (r := report.get(k)) is not None)
            return self._failed(doc, f"no candidate passed the probe for {', '.join(missing)} ({notes})")
        if winners:
            self._write(winners, report)
        else:
            log.info("self-repair: the probe found every key working now (%s): sending again", ", ".join(keys))
        held = self._reverify(doc)
        ctx.store.clear_attention(
            ctx.account,
            why=(
                f"selectors repaired by the worker ({', '.join(sorted(winners)) or 'none needed'})"
                + (f"; {len(held)} message(s) in doubt verified again" if held else "")
            ),
        )
        return True

    def _write(self, winners: dict[str, list[str]], report: doctor.Report) -> None:
        ctx = self.ctx
        cfg = ctx.cfg
        assert cfg.path is not None
        old = {k: list(cfg.selectors.get(k, ())) for k in winners}
        backup = settings.prepend_selectors(cfg.path, winners)
        new_cfg = settings.load(cfg.path).for_account(ctx.account)
        if cfg.paths.database != new_cfg.paths.database:  # --db overrides the file's
            new_cfg = new_cfg.with_database(cfg.paths.database)
        ctx.cfg = new_cfg
        ctx.need_page().use(new_cfg)
        changes = "; ".join(f"{k}: {old[k][:1]} -> {v}" for k, v in winners.items())
        log.warning("selectors repaired: %s (backup %s)", changes, backup)
        ctx.store.log_event(
            "selectors_repaired",
            f"account {ctx.account}: selectors repaired by the worker: {changes} (backup {backup})",
            level="warning",
        )

    def _reverify(self, doc: dict[str, Any]) -> list[int]:
        """The stop's messages in doubt, and this account's held for a broken selector, are
        verified again with the repaired selectors."""
        ctx = self.ctx
        ids = set(doc.get("messages") or [])
        for m in ctx.store.in_flight(account=ctx.account):
            why = f"{m.review or ''} {m.last_error or ''}"
            if m.status == "unknown" and ("selector" in why or "recognised" in why or "status" in why):
                ids.add(m.id)
        reopened = ctx.store.reopen_verification(sorted(ids), "the selectors were repaired")
        for mid in reopened:
            self.verifier.add(mid)
        return reopened
