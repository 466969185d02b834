"""The `accounts` and `login` commands: list the WhatsApp accounts, add, enable or disable
one (in config.toml; a running supervisor starts or stops its worker by itself), and log
one in from a plain terminal (its QR, redrawn as it rotates, until it is scanned)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from typing import Any

import settings
from common import dburl
from common.errors import one_line

from .context import AddCommand, context, load_config, open_store

LOGIN_POLL = 0.5  # seconds between two looks at the account's worker row


def _when(ts: float | None, now: float) -> str:
    if not ts:
        return "-"
    left = ts - now
    return "now" if left <= 0 else (f"in {left:.0f} s" if left < 120 else time.strftime("%H:%M", time.localtime(ts)))


def cmd_accounts(args: argparse.Namespace) -> int:
    """`accounts [list|add|enable|disable|lift] [NAME]`: list every account (a table, or
    JSON), change one in config.toml, or lift the limit WhatsApp put on one."""
    cfg = load_config(args)
    action = args.action or "list"
    if action == "add":
        return _add(args, cfg)
    if action in ("enable", "disable"):
        return _enable(args, cfg, action == "enable")
    if action == "lift":
        return _lift(args, cfg)
    import supervisor
    from jobs import overview

    store = open_store(cfg, must_exist=False)
    sup = supervisor.status(cfg, store=store)
    rows = overview.account_rows(cfg, store, sup, paused=lambda name: supervisor.account_paused(cfg, name))
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
        return 0
    now = time.time()
    print(f"{'ACCOUNT':<16} {'HOST':<12} {'ENABLED':<7} {'LOGIN':<10} {'WORKER':<10} {'DOING':<18} {'TODAY':>9}  NEXT")
    for r in rows:
        cap = f"{r.sent_today}/{r.cap_today}" if r.cap_today else f"{r.sent_today}/-"
        doing = "paused" if r.paused and r.enabled else r.activity
        login = r.health if r.limited else r.login  # a limit WhatsApp put on it says more
        print(
            f"{r.name:<16} {r.host:<12} {'yes' if r.enabled else 'no':<7} {login:<10} {r.worker:<10} "
            f"{doing:<18} {cap:>9}  {_when(r.next_send_at, now)}"
        )
        if r.detail and (r.worker in ("fatal", "backoff") or r.lost):
            print(f"{'':<16} {one_line(r.detail, 100)}")
        if r.limited:
            print(f"{'':<16} {_limit_line(r, now)}")
    if any(r.login != "logged_in" and r.enabled and not r.remote for r in rows):
        print("Log an account in: python tui.py login NAME")
    _integrations(cfg, store, sup)
    return 0


def _limit_line(r: Any, now: float) -> str:
    """What an account's limit means for its sending (r: an overview.AccountRow)."""
    if r.health == "banned":
        what = "banned: it sends nothing, for good (a person lifts it: python tui.py accounts lift NAME)"
    elif r.health == "restricted":
        what = f"restricted: it sends nothing until {_until(r.limit_until)}"
    else:
        what = f"new chats refused until {_until(r.limit_until)}: it sends to known contacts only"
    return one_line(what + (f" — {r.limit_reason}" if r.limit_reason else ""), 140)


def _until(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "lifted"


def _lift(args: argparse.Namespace, cfg: settings.Config) -> int:
    """A person lifts an account's limit (a ban too: an appeal was accepted, the page was
    misread); its jobs run again if they waited for it."""
    if not args.name:
        raise settings.ConfigError("accounts lift: give the account's NAME")
    cfg.get_account(args.name)
    old = open_store(cfg).clear_account_limit(args.name, "lifted by a person (accounts lift)", person=True)
    print(f"Account {args.name}: {old.replace('_', ' ')} lifted." if old else f"Account {args.name} has no limit.")
    return 0


def _integrations(cfg: settings.Config, store: Any, sup: dict[str, Any] | None) -> None:
    """The API's state and the webhooks' backlog, when there is something to say."""
    api = ((sup or {}).get("services") or {}).get("api") if sup and sup.get("alive") else None
    if api:
        print(f"API: {api.get('state')} on {api.get('url')}")
    elif cfg.api.enabled:
        print("API: enabled, not running (the supervisor runs it: python tui.py worker)")
    try:
        targets = store.outbox_summary()
    except Exception:  # a database from before the outbox
        targets = {}
    for t in targets.values():
        if t["pending"] or t["dead"]:
            print(f"Webhook {t['label']}: {t['pending']} waiting, {t['dead']} dead letter(s) (python tui.py webhooks)")


def _add(args: argparse.Namespace, cfg: settings.Config) -> int:
    if not args.name:
        raise settings.ConfigError("accounts add: give the new account's NAME")
    if cfg.path is None:
        raise settings.ConfigError("no config file to add the account to")
    overrides = {"daily_cap": args.daily_cap} if args.daily_cap is not None else {}
    if args.warmup_days is not None:
        overrides["warmup_days"] = args.warmup_days
    settings.add_account(cfg.path, args.name, profile_dir=args.profile_dir, **overrides)
    new = settings.load(cfg.path)
    if dburl.exists(cfg.paths.database):
        open_store(cfg).sync_accounts({a.name: a.enabled for a in new.all_accounts()})
    acc = new.get_account(args.name)
    print(f"Added account {acc.name} (browser profile {acc.profile_dir}) to {cfg.path}.")
    print(f"A running worker supervisor starts its worker by itself; log it in: python tui.py login {acc.name}")
    return 0


def _enable(args: argparse.Namespace, cfg: settings.Config, on: bool) -> int:
    if not args.name:
        raise settings.ConfigError(f"accounts {'enable' if on else 'disable'}: give the account's NAME")
    cfg.get_account(args.name)
    assert cfg.path is not None
    settings.set_account_enabled(cfg.path, args.name, on)
    if dburl.exists(cfg.paths.database):
        open_store(cfg).set_account_enabled(args.name, on)
    if on:
        print(f"Account {args.name} is enabled: a running supervisor starts its worker.")
    else:
        print(
            f"Account {args.name} is disabled: its worker stops; its login is kept. Its messages in doubt "
            "wait for it (no other account can tell whether they were sent)."
        )
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    """Draw the account's QR in this terminal until its worker says it is logged in."""
    import supervisor
    from jobs import overview

    ctx = context(args)
    cfg = ctx.cfg
    acc = cfg.get_account(args.name) if args.name else cfg.all_accounts()[0]
    if not acc.enabled:
        raise settings.ConfigError(f"account {acc.name} is disabled: python tui.py accounts enable {acc.name}")
    store = open_store(cfg, must_exist=False)
    st = supervisor.status(cfg, store=store)
    if not (st and st.get("alive")):
        print("Starting the worker supervisor in the background…", flush=True)
        try:
            supervisor.start_detached(ctx)
        except supervisor.AlreadyRunning:
            pass
    tty = sys.stdout.isatty()
    shown = None
    deadline = time.monotonic() + args.timeout if args.timeout else None
    while True:
        row = overview.latest_rows(store.workers()).get(acc.name)
        account = store.account(acc.name)
        login = account.login if account else None
        state = row.state if row else None
        if login == "logged_in" and state not in (None, "stopped", "waiting_for_login"):
            print(f"Account {acc.name} is logged in.")
            return 0
        sup = (supervisor.status(cfg, store=store) or {}).get("workers", {}).get(acc.name) or {}
        if sup.get("state") == "fatal":
            print(f"The worker of account {acc.name} stopped: {sup.get('fatal_reason')}", file=sys.stderr)
            return 1
        qr = row.qr if row and state == "waiting_for_login" else None
        if qr and qr != shown:
            shown = qr
            _draw(qr, acc.name, args.style or cfg.dashboard.qr_style, tty)
        elif not qr and shown is None and tty:
            print(f"\rWaiting for the worker of account {acc.name} to show its QR code… ", end="", flush=True)
        if deadline is not None and time.monotonic() > deadline:
            print(f"Account {acc.name} was not logged in within {args.timeout:g} s.", file=sys.stderr)
            return 1
        time.sleep(LOGIN_POLL)


def _draw(data: str, name: str, prefer: str, tty: bool) -> None:
    from dashboard import qrdraw

    cols, rows = shutil.get_terminal_size((80, 24))
    style = qrdraw.choose(data, cols, rows - 2, prefer)
    if tty:
        print("\033[2J\033[H", end="")  # a new code replaces the old one on screen
    print(f"Account {name}: scan with WhatsApp on your phone (Settings → Linked devices → Link a device)")
    dark, light = "\033[30;47m", "\033[0m"
    for line in qrdraw.lines(data, style=style):
        print(f"{dark}{line}{light}" if tty else line)
    print("The code changes every ~20 s; this waits until the phone has scanned it (Ctrl-C to leave).", flush=True)


def add_parsers(add: AddCommand) -> None:
    p = add(
        "accounts",
        cmd_accounts,
        "the WhatsApp accounts: list them (login or limit, worker, sent today / cap), add, enable or disable one, "
        "lift a limit",
    )
    p.add_argument("action", nargs="?", choices=("list", "add", "enable", "disable", "lift"))
    p.add_argument("name", nargs="?", help="the account (add, enable, disable, lift: end its limit or ban)")
    p.add_argument("--profile-dir", metavar="DIR", help="add: its browser profile (default profiles/NAME)")
    p.add_argument("--daily-cap", type=int, metavar="N", help="add: its own daily cap")
    p.add_argument("--warmup-days", type=int, metavar="N", help="add: grow its cap over its first N days")
    p.add_argument("--json", action="store_true")
    p = add("login", cmd_login, "log an account in: its QR code in this terminal until the phone scans it")
    p.add_argument("name", nargs="?", help="the account (default: the first one)")
    p.add_argument("--style", choices=("auto", "half", "sextant"), help="how to draw the QR (default: config)")
    p.add_argument("--timeout", type=float, default=0, metavar="S", help="give up after S seconds (default: never)")
