"""Message templates: {column} placeholders and {a|b|c} spintax.

A small parser of its own; nothing here ever calls str.format or evaluates
what is between the braces.

    Hi {First Name}, {see you|talk} soon. {{not a placeholder}}

- ``{name}``: a column of the file, matched case-insensitively, '_' = ' ',
  spaces collapsed. ``{name}`` falls back to the detected display name when no
  column is called name; ``{phone}`` is always the E.164 number.
- ``{a|b|c}``: one option chosen at random per message; options may be empty
  and may contain placeholders and nested spintax: ``{Hi {name}|Hello}``.
- ``{{`` and ``}}`` are literal braces (``{{`` also inside an option; a ``}``
  inside braces always closes them).
- A placeholder name cannot contain ``. [ ] ! :`` or a line break, so
  ``{0.__class__}`` or ``{name[0]}`` are errors, not lookups.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from .columns import norm_name
from .errors import ContactsError

_FORBIDDEN = set(".[]!:\n\r\t{}")


class Rng(Protocol):
    """What spintax needs of a random source: a `random.Random`, or the `random` module."""

    def random(self) -> float: ...


# A bound template's renderer: fn(row, name, phone, rng) -> the message.
Renderer = Callable[[Mapping[str, str], str, str, Rng], str]

NAME = "name"
PHONE = "phone"


class _Ph:
    """A {placeholder}: its name as written and its key (matched like a column name)."""

    __slots__ = ("key", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = norm_name(name)


class _Spin:
    """A {a|b|c} spintax group: each option a list of nodes."""

    __slots__ = ("options",)

    def __init__(self, options: list[list[_Node]]) -> None:
        self.options = options


_Node = str | _Ph | _Spin  # a parsed template is a list of these
# A bound template: (code, payload) pairs, see `_bind`. The payload's type depends on the
# code (a str, None, or a list of options), hence Any: the hot loops read it without casts.
_Op = tuple[int, Any]


MAX_NESTING = 20  # spintax inside spintax: deeper is a mistake (and would exhaust the stack)


class Template:
    """A parsed template. Raises ContactsError on a syntax error."""

    def __init__(self, text: str, source: str = "template") -> None:
        if text is None or not str(text).strip():
            raise ContactsError(f"{source}: the message template is empty")
        self.text = str(text)
        self.source = source
        self._nodes = self._parse()
        seen: dict[str, str] = {}
        self.has_spintax = False
        self._walk(self._nodes, seen)
        self._keys = seen  # key -> first spelling

    # -- parsing ------------------------------------------------------------------

    def _where(self, i: int) -> str:
        line = self.text.count("\n", 0, i) + 1
        col = i - (self.text.rfind("\n", 0, i) + 1) + 1
        return f"line {line}, column {col}"

    def _err(self, i: int, what: str) -> ContactsError:
        return ContactsError(f"{self.source}: {what} at {self._where(i)} (write {{{{ and }}}} for literal braces)")

    def _parse(self) -> list[_Node]:
        nodes, _end = self._seq(0, top=True)
        return nodes

    def _seq(self, i: int, top: bool, depth: int = 0) -> tuple[list[_Node], int]:
        """The nodes from `i` to the end of the text (top level) or to the `|` or `}` that ends
        the current option; returns them and where it stopped."""
        text, n = self.text, len(self.text)
        nodes: list[_Node] = []
        buf: list[str] = []
        while i < n:
            c = text[i]
            if c == "{":
                if text.startswith("{{", i):
                    buf.append("{")
                    i += 2
                    continue
                if buf:
                    nodes.append("".join(buf))
                    buf = []
                node, i = self._group(i, depth + 1)
                nodes.append(node)
                continue
            if c == "}":
                if not top:
                    break
                if text.startswith("}}", i):
                    buf.append("}")
                    i += 2
                    continue
                raise self._err(i, "a '}' without its '{'")
            if c == "|" and not top:
                break
            buf.append(c)
            i += 1
        if buf:
            nodes.append("".join(buf))
        return nodes, i

    def _group(self, start: int, depth: int = 1) -> tuple[_Ph | _Spin, int]:
        """The `{...}` starting at `start`: a placeholder, or spintax when it has several
        options; returns it and the index after its `}`."""
        text, n = self.text, len(self.text)
        if depth > MAX_NESTING:
            raise self._err(start, f"spintax nested more than {MAX_NESTING} levels deep")
        i = start + 1
        options: list[list[_Node]] = []
        while True:
            nodes, i = self._seq(i, top=False, depth=depth)
            options.append(nodes)
            if i >= n:
                raise self._err(start, "a '{' that is never closed")
            if text[i] == "|":
                i += 1
                continue
            i += 1  # '}'
            break
        if len(options) > 1:
            return _Spin(options), i
        opt = options[0]
        raw = text[start:i]
        if not opt or (len(opt) == 1 and isinstance(opt[0], str) and not opt[0].strip()):
            raise self._err(start, "an empty placeholder {}")
        if len(opt) != 1 or not isinstance(opt[0], str):
            raise self._err(start, f"{_short(raw)} is not a placeholder name (spintax needs '|' between options)")
        name = opt[0].strip()
        bad = sorted(set(name) & _FORBIDDEN)
        if bad or not any(ch.isalnum() for ch in name):
            shown = " ".join(repr(b) for b in bad) if bad else "no letters"
            raise self._err(start, f"{_short(raw)} is not a placeholder name ({shown})")
        return _Ph(name), i

    def _walk(self, nodes: list[_Node], seen: dict[str, str]) -> None:
        for nd in nodes:
            if isinstance(nd, _Ph):
                seen.setdefault(nd.key, nd.name)
            elif isinstance(nd, _Spin):
                self.has_spintax = True
                for opt in nd.options:
                    self._walk(opt, seen)

    # -- API ----------------------------------------------------------------------

    @property
    def placeholders(self) -> list[str]:
        """Placeholder names as first written, in order, without repeats."""
        return list(self._keys.values())

    def check(self, columns: Iterable[str], where: str | None = None, name_column: str | None = None) -> dict[str, str]:
        """Map each placeholder key to a column, 'name' or 'phone'.

        name_column: the table's display-name column; {name} naming it gives
        the display name (which falls back to First + Last when it is empty).
        Raises ContactsError naming the first placeholder that has no column,
        and the columns that exist.
        """
        by_key: dict[str, str] = {}
        for c in columns:
            by_key.setdefault(norm_name(c), c)
        mapping: dict[str, str] = {}
        for key, spelled in self._keys.items():
            if key == PHONE:
                mapping[key] = "\0phone"
            elif key == NAME and name_column is not None and by_key.get(key) == name_column:
                mapping[key] = "\0name"
            elif key in by_key:
                mapping[key] = by_key[key]
            elif key == NAME:
                mapping[key] = "\0name"
            else:
                listing = ", ".join(repr(c) for c in columns) or "(none)"
                raise ContactsError(
                    f"{where or self.source}: the template uses {{{spelled}}} but the file has no such "
                    f"column; the columns are: {listing} (plus {{name}} and {{phone}})"
                )
        return mapping

    def render(self, values: Mapping[str, object], rng: _random.Random | None = None) -> str:
        """Fill in placeholders from values (keys matched case-insensitively,
        no special names: put 'name'/'phone' in values if the template uses
        them) and choose spintax options with rng (random module if None)."""
        keymap: dict[str, str] = {}
        for k in values:
            keymap.setdefault(norm_name(str(k)), k)
        mapping: dict[str, str] = {}
        for key, spelled in self._keys.items():
            if key not in keymap:
                listing = ", ".join(repr(str(k)) for k in values) or "(none)"
                raise ContactsError(f"{self.source}: no value for {{{spelled}}}; the values are: {listing}")
            mapping[key] = keymap[key]
        row = {k: ("" if v is None else str(v)) for k, v in values.items()}
        return self.bind_mapping(mapping)(row, "", "", rng or _random)

    def bind(self, columns: Iterable[str], where: str | None = None, name_column: str | None = None) -> Renderer:
        """A fast renderer for rows of a table: fn(row, name, phone, rng) -> str.

        Raises ContactsError like check() (where names the file in the message).
        """
        return self.bind_mapping(self.check(columns, where=where, name_column=name_column))

    def bind_mapping(self, mapping: dict[str, str]) -> Renderer:
        """A renderer for `mapping` (placeholder key -> column, see `check`): the plainest
        of three loops that can render this template."""
        bound = _bind(self._nodes, mapping)
        if not self.has_spintax:

            def render_plain(row: Mapping[str, str], name: str, phone: str, rng: Rng, _b: list[_Op] = bound) -> str:
                return "".join([p if c == 0 else row[p] if c == 1 else name if c == 2 else phone for c, p in _b])

            return render_plain

        if all(c != 4 or all(o.__class__ is str for o in p) for c, p in bound):
            # spintax of plain-text options only (the usual case): one flat pass
            flat = [(c, tuple(p) if c == 4 else p) for c, p in bound]

            def render_flat(row: Mapping[str, str], name: str, phone: str, rng: Rng, _f: list[_Op] = flat) -> str:
                rnd = rng.random
                return "".join(
                    [
                        p
                        if c == 0
                        else row[p]
                        if c == 1
                        else p[int(rnd() * len(p))]
                        if c == 4
                        else name
                        if c == 2
                        else phone
                        for c, p in _f
                    ]
                )

            return render_flat

        def render_nested(row: Mapping[str, str], name: str, phone: str, rng: Rng, _b: list[_Op] = bound) -> str:
            out: list[str] = []
            _emit(_b, row, name, phone, rng.random, out)
            return "".join(out)

        return render_nested


def _short(s: str) -> str:
    return repr(s if len(s) <= 40 else s[:37] + "...")


def _bind(nodes: list[_Node], mapping: Mapping[str, str]) -> list[_Op]:
    """(0, text) | (1, column) | (2, None)=name | (3, None)=phone | (4, options)

    An option made of text only is kept as a plain str, others as bound lists.
    """
    out: list[_Op] = []
    for nd in nodes:
        if isinstance(nd, str):
            out.append((0, nd))
        elif isinstance(nd, _Ph):
            src = mapping[nd.key]
            if src == "\0name":
                out.append((2, None))
            elif src == "\0phone":
                out.append((3, None))
            else:
                out.append((1, src))
        else:
            opts: list[str | list[_Op]] = []
            for o in nd.options:
                b = _bind(o, mapping)
                if all(c == 0 for c, _ in b):
                    opts.append("".join(p for _, p in b))
                else:
                    opts.append(b)
            out.append((4, opts))
    return out


def _emit(
    bound: list[_Op], row: Mapping[str, str], name: str, phone: str, rnd: Callable[[], float], out: list[str]
) -> None:
    append = out.append
    for c, p in bound:
        if c == 0:
            append(p)
        elif c == 1:
            append(row[p])
        elif c == 4:
            alt = p[int(rnd() * len(p))]
            if alt.__class__ is str:
                append(alt)
            else:
                _emit(alt, row, name, phone, rnd, out)
        elif c == 2:
            append(name)
        else:
            append(phone)
