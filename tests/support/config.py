"""The one config builder of the tests.

Every config a test writes is the shipped config.toml (comments, selectors and all: the
worker must work with it unchanged) with its paths under the test's folder and the
values of a preset, then the test's own `section__key=value` overrides. The selectors are
never touched unless a test names them (`selectors__send_button=[...]`).

Presets:

- `FAST` (the default): the real worker against the simulator, no delays, short timeouts,
  a warmed-up account (no budget of new contacts in the way).
- `SUPERVISED`: a worker under a real supervisor that is killed and restarted on purpose
  (chaos): restarts at once, a large restart budget, every message may take many attempts.
- `NONE`: only the paths (the supervisor with fake workers sets its own `[supervisor]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit

from tests.support.paths import SHIPPED_CONFIG

Values = Mapping[str, Mapping[str, Any]]

FAST: Values = {
    "browser": {
        "headless": True,
        "navigation": "in_app",
        "ack_timeout": 5,
        "chat_timeout": 5,
        "boot_timeout": 20,
    },
    # A warmed-up account (tests send hundreds of messages to new numbers); the budget of
    # new contacts has tests of its own.
    "sending": {
        "delay_min": 0.0,
        "delay_max": 0.0,
        "long_pause_every": 0,
        "retry_backoff": 0.0,
        "new_contacts_per_day": 100_000,
        "link_preview_wait": 0.0,  # a human-pace wait like the delays (its own tests turn it on)
    },
    "worker": {"heartbeat_interval": 1.0, "poll_interval": 0.5},
}

SUPERVISED: Values = {
    "browser": {
        "headless": True,
        "navigation": "in_app",
        "boot_timeout": 30,
        "chat_timeout": 10,
        "ack_timeout": 10,
    },
    "sending": {
        "delay_min": 0.0,
        "delay_max": 0.0,
        "long_pause_every": 0,
        "retry_backoff": 0.0,
        "max_attempts": 100,
        "new_contacts_per_day": 100_000,
        "link_preview_wait": 0.0,
    },
    "worker": {"heartbeat_interval": 1.0, "poll_interval": 0.5},
    "supervisor": {
        "start_seconds": 1.0,
        "backoff_initial": 0.1,
        "backoff_max": 0.5,
        "max_restarts": 100,
        "restart_period": 600.0,
        "stable_seconds": 600.0,
        "stop_timeout": 5.0,
        "heartbeat_timeout": 30.0,
        "memory_limit_mb": 0,
    },
}

NONE: Values = {}

# The overrides of the accounts' and hosts' tests (on top of FAST): one supervised worker
# per account, paced a little, restarted at once when killed.
ACCOUNTS_SUPERVISED: dict[str, Any] = {
    "sending__daily_cap": 0,
    "sending__delay_min": 0.1,
    "sending__delay_max": 0.4,
    "supervisor__start_seconds": 1.0,
    "supervisor__backoff_initial": 0.2,
    "supervisor__backoff_max": 1.0,
    "supervisor__max_restarts": 20,
    "supervisor__stop_timeout": 5.0,
}


def write_config(
    tmp: Path,
    sim: Any = None,
    *,
    preset: Values = FAST,
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
    name: str = "config.toml",
    **overrides: Any,
) -> Path:
    """Write `tmp/name` and return its path.

    `sim`: a Simulator (or anything with a `url`), or a URL string: `[browser] whatsapp_url`.
    `accounts`: `{name: {key: value}}` appended as `[[accounts]]`, each with its own
    profile folder under `tmp`. Paths (`[paths]`, `[browser] profile_dir`) default to
    `tmp/db.sqlite`, `tmp/run`, `tmp/logs`, `tmp/profile`; override them like any key
    (`paths__database="data/t.db"` stays relative to the config file, as a user writes it).
    """
    doc = tomlkit.parse(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    values: dict[str, dict[str, Any]] = {
        "paths": {"database": str(tmp / "db.sqlite"), "run_dir": str(tmp / "run"), "log_dir": str(tmp / "logs")},
        "browser": {"profile_dir": str(tmp / "profile")},
    }
    if sim is not None:
        values["browser"]["whatsapp_url"] = sim if isinstance(sim, str) else sim.url
    for section, items in preset.items():
        values.setdefault(section, {}).update(items)
    for key, value in overrides.items():
        section, sep, item = key.partition("__")
        if not sep or not item:
            raise TypeError(f"config override {key!r}: write section__key=value")
        values.setdefault(section, {})[item] = value
    for section, items in values.items():
        table = doc.setdefault(section, tomlkit.table())
        for k, v in items.items():
            table[k] = v
    if accounts:
        aot = tomlkit.aot()
        for account, extra in accounts.items():
            t = tomlkit.table()
            t["name"] = account
            t["profile_dir"] = str(tmp / f"profile-{account}")
            for k, v in extra.items():
                t[k] = v
            aot.append(t)
        doc.append("accounts", aot)
    path = tmp / name
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path
