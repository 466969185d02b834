"""Seeded page variants ("builds"): a WhatsApp Web nobody wrote selectors for.

WhatsApp changes its page every few months: icon names, class names, test ids, wrappers,
where a label sits. ``--mutate SEED`` draws such a variant from a seed. The server builds
the **plan** here (``random.Random(seed)``: the same seed always gives the same plan) and
hands it to the page, which applies it while it draws (``simulator/static/app.js``); the
stylesheet and the boot screen are rewritten here with the same names, so the page looks
the same. Python and the page derive class names with one hash (FNV-1a), so names the
plan does not list (classes only the script uses) agree too.

What a person sees never changes: texts, label values in the page's language, layout.
See docs/simulator.md ("Builds") for the operators and the invariants.
"""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).resolve().parent / "static"

OPERATORS = ("icons", "classes", "testids", "attributes", "rows", "labels", "tags")
MIN_OPERATORS = 3

# Every data-icon the page draws (both generations). The two send icons are one icon.
ICON_NAMES = (
    "msg-time",
    "msg-check",
    "msg-dblcheck",
    "send",
    "wds-ic-send-filled",
    "plus-rounded",
    "mic-outlined",
    "alert-computer",
    "alert-phone",
    "document",
    "media",
    "x",
    "lock-small",
    "msg-error",
    "alert-limit",
)
_ICON_GROUPS = (
    ("msg-time",),
    ("msg-check",),
    ("msg-dblcheck",),
    ("send", "wds-ic-send-filled"),
    ("plus-rounded",),
    ("mic-outlined",),
    ("alert-computer",),
    ("alert-phone",),
    ("document",),
    ("media",),
    ("x",),
    ("lock-small",),
)
# Icons added later (the account limits): drawn after everything else, so that every build
# drawn before they existed keeps its names.
_LATER_ICON_GROUPS = (("msg-error",), ("alert-limit",))
# Words for new icon names: none may contain an old name (so no "x", "send", "media", …).
_WORDS = (
    "clock",
    "tick",
    "ticks",
    "arrow",
    "plane",
    "add",
    "lock",
    "warn",
    "device",
    "file",
    "photo",
    "close",
    "voice",
    "status",
    "glyph",
    "shape",
    "mark",
    "dot",
    "wait",
    "done",
    "pin",
    "ring",
    "star",
    "leaf",
    "wave",
    "bolt",
    "cloud",
    "grid",
    "badge",
    "shield",
    "bell",
    "plug",
)

# Element ids that stay (the invariants); the page's other ids are renamed with the classes.
KEPT_IDS = ("app", "startup", "side", "pane-side", "main")
PAGE_IDS = ("main-slot", "new-chat", "landing", "media-preview")

# Synthetic classes (obfuscated names) the mutated stylesheet uses where app.css selects by
# attribute or by a structure a build changes.
HOOKS = ("row", "icon", "inline", "div_button", "button_div", "flex", "align_out", "align_in", "align_sys", "column")

_ATTR_SELECTORS = (('div[role="row"]', "div.{row}"), ("span[data-icon]", ".{icon}"))


def fnv1a(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes (the page computes the same with Math.imul)."""
    h = 2166136261
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def token(seed: int, kind: str, name: str) -> str:
    """An obfuscated class-like name, as WhatsApp's atomic CSS ("x1a2b3c"): 'x' + base36."""
    return "x" + _base36(fnv1a(f"{seed}:{kind}:{name}"))


def _static(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


_CLASS_IN_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_ID_IN_SELECTOR = re.compile(r"#(-?[_a-zA-Z][\w-]*)")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CLASS_ATTR = re.compile(r'class="([^"]*)"')


@functools.lru_cache(maxsize=1)
def static_classes() -> tuple[str, ...]:
    """Class names the stylesheet and the boot screen use (the plan lists their new names;
    the page derives the names of its other classes with the same hash)."""
    names: set[str] = set()
    for m in _RULE.finditer(_COMMENT.sub("", _static("app.css"))):
        names.update(_CLASS_IN_SELECTOR.findall(m.group(1)))
    for m in _CLASS_ATTR.finditer(_static("app.html")):
        names.update(m.group(1).split())
    return tuple(sorted(names))


def _icon_name(rng: random.Random, taken: set[str]) -> str:
    while True:
        word = rng.choice(_WORDS)
        style = rng.randrange(3)
        if style == 0:
            name = f"ic-{word}-{rng.randrange(16**4):04x}"
        elif style == 1:
            name = f"wds-ic-{word}-{rng.randrange(2, 48)}"
        else:
            name = f"{word}-{rng.choice(_WORDS)}-{rng.randrange(10, 99)}"
        if name not in taken and not any(old in name for old in ICON_NAMES):
            taken.add(name)
            return name


@functools.lru_cache(maxsize=64)
def _plan(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    chosen = [op for op in OPERATORS if rng.random() < 0.55]
    while len(chosen) < MIN_OPERATORS:
        op = rng.choice([o for o in OPERATORS if o not in chosen])
        chosen.append(op)
    ops = [op for op in OPERATORS if op in chosen]  # in a fixed order

    # Every part is drawn (so one part's draw never shifts another's), then kept if chosen.
    taken: set[str] = set()
    icons: dict[str, str] = {}
    for group in _ICON_GROUPS:
        new = _icon_name(rng, taken)
        for old in group:
            icons[old] = new
    pool = list(range(1, 16))
    rng.shuffle(pool)
    data_tab: dict[str, str] = {}
    for old in ("3", "10", "11"):  # the chat search, the compose box, the 2024 send button
        data_tab[old] = str(next(n for n in pool if str(n) != old and str(n) not in data_tab.values()))
    attributes = {
        "data-tab": data_tab,
        "data-id": rng.choice(["data-id", "data-msgid", "data-key", "data-message-id"]),
        "data-lexical-editor": rng.choice(["drop", "data-editor", "data-rich-text"]),
        "data-animate-modal-popup": rng.choice(["drop", "data-modal", "data-popup-animate"]),
    }
    rows = {
        "row": rng.choice(["keep", "listitem", "none", "unwrap"]),  # message rows
        "outer": rng.randrange(3),  # extra divs around each row (or bubble container, unwrapped)
        "inner": rng.randrange(3),  # extra divs around each bubble, inside its row
        "chat_role": rng.choice(["option", "none", "swap"]),  # chat list rows (swap: row <-> listitem)
        "chat_outer": rng.randrange(3),
    }
    if rows["row"] == "keep" and rows["outer"] == 0 and rows["inner"] == 0:
        rows["inner"] = 1
    labels = {
        "attr": rng.choice(["title", "both"]),  # where every aria-label goes
        "placeholder": rng.choice(["aria-label", "title", "data-placeholder"]),
        "status": rng.choice(["span", "wrapper", "svg"]),  # the message status label
    }
    tags = {"buttons": rng.random() < 0.7, "icons": rng.choice(["div", "span"])}
    if not tags["buttons"] and tags["icons"] == "span":
        tags["icons"] = "div"
    for group in _LATER_ICON_GROUPS:
        new = _icon_name(rng, taken)
        for old in group:
            icons[old] = new

    classes = {name: token(seed, "c", name) for name in static_classes()}
    ids = {name: token(seed, "i", name) for name in PAGE_IDS}
    return {
        "seed": seed,
        "operators": ops,
        "icons": icons if "icons" in ops else {},
        "classes": classes if "classes" in ops else {},
        "ids": ids if "classes" in ops else {},
        "hooks": {k: token(seed, "h", k) for k in HOOKS},
        "testids": "drop" if "testids" in ops else None,
        "attributes": attributes if "attributes" in ops else None,
        "rows": rows if "rows" in ops else None,
        "labels": labels if "labels" in ops else None,
        "tags": tags if "tags" in ops else None,
        "kept_ids": list(KEPT_IDS),
    }


def plan(seed: int | None) -> dict[str, Any] | None:
    """The build a seed draws (None or 0: no mutation). A fresh copy each call."""
    if not seed:
        return None
    import copy

    return copy.deepcopy(_plan(int(seed)))


def describe(seed: int | None) -> dict[str, Any]:
    """What GET /__sim__/mutation answers."""
    p = plan(seed)
    if p is None:
        return {"seed": None, "operators": [], "icons": {}, "classes": {}}
    return p


# ----------------------------------------------------------------------------- stylesheet, boot screen

_PRELUDE = """/* build {seed}: classes the builds add (before the app's rules, which win) */
.{inline} {{ display: inline; }}
.{flex} {{ display: inline-flex; }}
.{div_button} {{ border: 0; padding: 0; margin: 0; background: none; font: inherit; color: inherit;
  text-align: inherit; line-height: inherit; cursor: pointer; }}
.{button_div} {{ display: flex; flex-direction: column; justify-content: center; align-items: center;
  text-align: center; cursor: pointer; }}
"""
_POSTLUDE = """
/* build {seed}: rows without a row element (their bubble sits in the message list) */
.{align_out} {{ align-self: flex-end; }}
.{align_in} {{ align-self: flex-start; }}
.{align_sys} {{ align-self: center; }}
.{column} {{ display: flex; flex-direction: column; }}
"""


@functools.lru_cache(maxsize=64)
def _css(seed: int) -> str:
    p = _plan(seed)
    hooks, classes, ids = p["hooks"], p["classes"], p["ids"]
    placeholder = (p["labels"] or {}).get("placeholder") or "aria-placeholder"
    rules = []
    for m in _RULE.finditer(_COMMENT.sub("", _static("app.css"))):
        selector, body = m.group(1).strip(), m.group(2).strip()
        if classes:
            selector = _CLASS_IN_SELECTOR.sub(lambda c: "." + classes.get(c.group(1), c.group(1)), selector)
        if ids:
            selector = _ID_IN_SELECTOR.sub(lambda c: "#" + ids.get(c.group(1), c.group(1)), selector)
        for old, new in _ATTR_SELECTORS:
            selector = selector.replace(old, new.format(**hooks))
        body = body.replace("attr(aria-placeholder)", f"attr({placeholder})")
        rules.append(f"{selector} {{ {body} }}")
    return _PRELUDE.format(seed=seed, **hooks) + "\n".join(rules) + "\n" + _POSTLUDE.format(seed=seed, **hooks)


def stylesheet(seed: int) -> str:
    """app.css for this build: the same rules under the build's names."""
    return _css(int(seed))


def rewrite_html(html: str, seed: int) -> str:
    """app.html for this build: the boot screen's classes renamed, the build's stylesheet."""
    p = _plan(int(seed))
    classes = p["classes"]
    if classes:
        html = _CLASS_ATTR.sub(
            lambda m: 'class="' + " ".join(classes.get(c, c) for c in m.group(1).split()) + '"', html
        )
    return html.replace('href="/__sim__/static/app.css"', f'href="/__sim__/static/app.css?build={int(seed)}"')
