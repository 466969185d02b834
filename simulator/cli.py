"""Command line of the simulator: ``python tui.py simulator [flags]``.

Serves on 127.0.0.1 until Ctrl-C (or SIGTERM), then exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import re
import signal
import sys
import threading
import time
from typing import Any

from simulator.server import DOMS, LANGS, MAX_SEED, SENDER_STYLES, ConfigError, Simulator

DEFAULT_PORT = 8377


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def _seed(text: str) -> int:
    value = _count(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SEED}, got {text!r}")
    return value


def _name(text: str) -> str:
    if not text.strip() or len(text.strip()) > 60:
        raise argparse.ArgumentTypeError(f"expected a profile name (1 to 60 characters), got {text!r}")
    return text.strip()


def _port(text: str) -> int:
    value = _count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text!r}")
    return value


def _hours(text: str) -> float | None:
    if text.strip().lower() == "later":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a number of hours or "later", got {text!r}') from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of hours > 0, got {text!r}")
    return value


_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _when(text: str) -> float:
    """A time to come: "+90s", "+30m", "+24h" (from now), "14:35" (its next occurrence, local
    time), or epoch seconds."""
    t = text.strip()
    m = re.fullmatch(r"\+(\d+(?:\.\d+)?)([smhd]?)", t)
    if m:
        return time.time() + float(m.group(1)) * _UNITS[m.group(2)]
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", t)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        now = datetime.datetime.now()
        at = now.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0)
        if at <= now:
            at += datetime.timedelta(days=1)
        return at.timestamp()
    try:
        value = float(t)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected +DURATION (+90s, +30m, +24h), HH:MM or epoch seconds, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction from 0 to 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text!r}")
    return value


def _positive_count(text: str) -> int:
    value = _count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _digits(text: str) -> str:
    text = text.strip()
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected digits such as 13, got {text!r}")
    return text


def _numbers(text: str) -> list[str]:
    numbers = [n.strip() for n in text.split(",") if n.strip()]
    for n in numbers:
        if not n.lstrip("+").replace(" ", "").replace("-", "").isdigit():
            raise argparse.ArgumentTypeError(f"not a phone number: {n!r}")
    return numbers


def build_parser(prog: str = "tui.py simulator") -> argparse.ArgumentParser:
    """The simulator's command line: one flag per setting of `Settings` (docs/simulator.md)."""
    p = argparse.ArgumentParser(
        prog=prog,
        description="Local WhatsApp Web simulator on 127.0.0.1 (never contacts WhatsApp). "
        "Control API under /__sim__/ (see docs/simulator.md).",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"TCP port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    p.add_argument(
        "--boot-time",
        type=_seconds,
        default=3.0,
        metavar="SECONDS",
        help="app boot time of every page load (default 3)",
    )
    p.add_argument(
        "--ack-delay",
        type=_seconds,
        default=0.3,
        metavar="SECONDS",
        help="time a sent message shows the clock before its tick (default 0.3)",
    )
    p.add_argument(
        "--invalid",
        type=_numbers,
        default=[],
        metavar="NUMBERS",
        help="comma-separated numbers that are not on WhatsApp",
    )
    p.add_argument(
        "--invalid-suffix",
        type=_digits,
        default=None,
        metavar="DIGITS",
        help="numbers ending in these digits are not on WhatsApp (e.g. 13)",
    )
    p.add_argument("--stuck-clock", action="store_true", help="accept messages but never turn the clock into a tick")
    p.add_argument("--lose-clicks", type=_count, default=0, metavar="N", help="silently lose the next N send clicks")
    p.add_argument(
        "--failure-rate", type=_rate, default=0.0, metavar="P", help="probability (0..1) that opening a chat fails"
    )
    p.add_argument(
        "--phone-disconnected",
        action="store_true",
        help='start with "Phone not connected" (messages wait on the clock)',
    )
    p.add_argument(
        "--auto-login",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="demo mode: log in by itself after SECONDS on the QR page, or on any key press "
        "(the first browser as --own-number, each other browser profile as the next number)",
    )
    p.add_argument(
        "--logged-in", action="store_true", help="start logged in: every browser is the account of --own-number"
    )
    p.add_argument(
        "--own-number",
        type=_phone,
        default="+15550100000",
        metavar="NUMBER",
        help="the default account's own number (default +15550100000)",
    )
    p.add_argument(
        "--qr-rotate",
        type=_positive_seconds,
        default=20.0,
        metavar="SECONDS",
        help="seconds between QR code changes (default 20)",
    )
    p.add_argument(
        "--qr-rotations", type=_count, default=5, metavar="N", help="QR code changes before it expires (default 5)"
    )
    p.add_argument("--seed", type=int, default=None, help="random seed for --failure-rate")
    p.add_argument(
        "--dom",
        choices=DOMS,
        default="2026",
        help="DOM generation of the page: 2026 is WhatsApp Web as public 2025-26 evidence "
        "describes it, 2024 the older one (default 2026; docs/whatsapp-dom.md)",
    )
    p.add_argument(
        "--lang",
        choices=LANGS,
        default="auto",
        help="UI language of labels and bubble times (default auto: the browser's language)",
    )
    p.add_argument(
        "--enter-does-not-send", action="store_true", help='the user turned off "Enter is send": Enter makes a new line'
    )
    p.add_argument(
        "--contact",
        action="append",
        default=[],
        type=_contact,
        metavar="NAME=NUMBER",
        help="a saved contact: its chat shows NAME instead of the number (repeatable)",
    )
    p.add_argument(
        "--incoming",
        action="append",
        default=[],
        type=_incoming,
        metavar="NUMBER=TEXT",
        help="a contact writes TEXT to the account (unread badge, preview, a bubble without status "
        "icon), --incoming-after seconds after the start (repeatable)",
    )
    p.add_argument(
        "--incoming-after",
        type=_seconds,
        default=5.0,
        metavar="SECONDS",
        help="when the --incoming messages arrive (default 5)",
    )
    p.add_argument(
        "--min-chrome",
        type=_count,
        default=120,
        metavar="N",
        help="2026: Chrome older than N (or HeadlessChrome) gets 'update your browser' (default 120)",
    )
    p.add_argument(
        "--mutate",
        type=_seed,
        default=0,
        metavar="SEED",
        help="draw a page variant nobody wrote selectors for from SEED: other icon names, classes, "
        "attributes, rows, label places, tags; the same texts and layout (default 0: off; "
        "docs/simulator.md)",
    )
    p.add_argument(
        "--read-after",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help='the contact reads each message SECONDS after it was accepted: blue ticks, " Read " (default: never)',
    )
    p.add_argument(
        "--own-name",
        type=_name,
        default="Sim User",
        metavar="NAME",
        help="the account's own profile name (default 'Sim User'; other accounts 'Sim User 2', …)",
    )
    p.add_argument(
        "--sender-style",
        choices=SENDER_STYLES,
        default="auto",
        help="our bubbles' sender in data-pre-plain-text: the word for You, or the own profile "
        "name (default auto: the name on a pt-BR page of the 2026 generation)",
    )
    limits = p.add_argument_group("account limits", "what WhatsApp does to accounts that message too many new people")
    limits.add_argument(
        "--new-chat-limit",
        type=_count,
        default=None,
        metavar="N",
        help="after N new chats started (messages to contacts without history), chats with new "
        'people show "You can\'t message new people right now" instead of the compose bar',
    )
    limits.add_argument(
        "--new-chat-limit-hours",
        type=_hours,
        default=11.0,
        metavar="HOURS",
        help='how long that lasts (default 11; "later": until changed)',
    )
    limits.add_argument(
        "--restricted-until",
        type=_when,
        default=None,
        metavar="WHEN",
        help='"Your account is restricted" until WHEN: +DURATION (+90s, +30m, +24h), HH:MM or epoch '
        "seconds; then it lifts by itself",
    )
    limits.add_argument(
        "--banned", action="store_true", help='"This account is not allowed to use WhatsApp" instead of the app'
    )
    limits.add_argument(
        "--unanswered-cap",
        type=_positive_count,
        default=None,
        metavar="M",
        help="the banner \"You've sent N of M messages to people who haven't replied this month\"",
    )
    limits.add_argument(
        "--unanswered-warn",
        type=_fraction,
        default=0.9,
        metavar="F",
        help="the banner shows once N reaches this fraction of M (default 0.9)",
    )
    limits.add_argument(
        "--unanswered-count",
        type=_count,
        default=None,
        metavar="N",
        help="show this count instead of counting (default: counted for real)",
    )
    limits.add_argument(
        "--fail-sends", type=_count, default=0, metavar="N", help="the next N sends get the failure mark (not sent)"
    )
    limits.add_argument(
        "--fail-numbers",
        type=_numbers,
        default=[],
        metavar="NUMBERS",
        help="comma-separated numbers whose sends get the failure mark",
    )
    return p


def _phone(text: str) -> str:
    digits = text.strip().lstrip("+").replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise argparse.ArgumentTypeError(f"expected a phone number such as +15550100000, got {text!r}")
    return "+" + digits


def _contact(text: str) -> tuple[str, str]:
    name, sep, number = text.rpartition("=")
    if not sep or not name.strip() or not number.strip().lstrip("+").isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER such as 'Ana Souza=+5511987654321', got {text!r}")
    return name.strip(), number.strip()


def _incoming(text: str) -> tuple[str, str]:
    number, sep, message = text.partition("=")
    if not sep or not message.strip():
        raise argparse.ArgumentTypeError(f"expected NUMBER=TEXT such as '+5511987654321=STOP', got {text!r}")
    return _phone(number), message


def simulator_from_args(args: argparse.Namespace) -> Simulator:
    """A Simulator with the settings the flags give (validated by `apply_settings`)."""
    settings: dict[str, Any] = {
        "ack_delay": args.ack_delay,
        "invalid_numbers": args.invalid,
        "invalid_suffix": args.invalid_suffix,
        "stuck_clock": args.stuck_clock,
        "lose_clicks": args.lose_clicks,
        "failure_rate": args.failure_rate,
        "phone_connected": not args.phone_disconnected,
        "dom": args.dom,
        "lang": args.lang,
        "enter_sends": not args.enter_does_not_send,
        "contact_names": {number: name for name, number in args.contact},
        "min_chrome": args.min_chrome,
        "own_number": args.own_number,
        "mutate": args.mutate,
        "read_after": args.read_after,
        "own_name": args.own_name,
        "sender_style": args.sender_style,
        "new_chat_limit_after": args.new_chat_limit,
        "new_chat_limit_hours": args.new_chat_limit_hours,
        "restricted_until": args.restricted_until,
        "banned": args.banned,
        "unanswered_cap": args.unanswered_cap,
        "unanswered_warn": args.unanswered_warn,
        "unanswered_count": args.unanswered_count,
        "fail_sends": args.fail_sends,
        "fail_numbers": args.fail_numbers,
    }
    return Simulator(
        port=args.port,
        boot_time=args.boot_time,
        qr_rotate_seconds=args.qr_rotate,
        qr_max_rotations=args.qr_rotations,
        auto_login=args.auto_login,
        logged_in=args.logged_in,
        seed=args.seed,
        **settings,
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m simulator`: serve until Ctrl-C or SIGTERM; a port in use is one line, exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        sim = simulator_from_args(args)
    except ConfigError as exc:
        parser.error(str(exc))
    # Ctrl-C and SIGTERM only ask the loop below to end: a KeyboardInterrupt raised
    # wherever the main thread happens to be (still printing the banner while the server
    # threads already answer) would end the simulator with a traceback instead.
    stop = threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        return _serve(sim, args, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(sim: Simulator, args: argparse.Namespace, stop: threading.Event) -> int:
    try:
        sim.start()
    except OSError as exc:
        print(f"simulator: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"WhatsApp simulator running at {sim.url}/  (control API: {sim.url}/__sim__/state)", flush=True)
    if args.mutate:
        print(
            f"Build {args.mutate}: a page variant nobody wrote selectors for "
            f"(what it changes: {sim.url}/__sim__/mutation).",
            flush=True,
        )
    if args.auto_login is not None:
        print(f"Demo mode: logs in {args.auto_login:g} s after the QR page shows, or on any key.", flush=True)
    elif not args.logged_in:
        print(f"Log in with: curl -X POST {sim.url}/__sim__/login", flush=True)
        print(
            f"Several accounts: curl {sim.url}/__sim__/pending_logins, then for each browser "
            f'curl -X POST {sim.url}/__sim__/scan -d \'{{"ref": "2@…", "number": "+15550100001"}}\'',
            flush=True,
        )
    print("Press Ctrl-C to stop.", flush=True)
    deliver_at = time.monotonic() + args.incoming_after
    incoming = list(args.incoming)
    try:
        while not stop.wait(0.5):
            if incoming and time.monotonic() >= deliver_at:
                for number, text in incoming:
                    sim.deliver(number, text)
                    print(f"incoming message from {number}", flush=True)
                incoming = []
    finally:
        sim.stop()
    print("Simulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
