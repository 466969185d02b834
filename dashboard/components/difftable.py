"""A DataTable that takes whole new contents and changes only what differs.

`sync(rows)` with rows = [(key, cells), ...]: when the keys are the same, in the same
order, only changed cells are updated (cursor and scroll stay put); otherwise the
table is rebuilt and the cursor goes back to the row with the same key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text  # what the tables show in a cell
Cells = tuple[Cell, ...]  # one row


class DiffTable(DataTable[Cell]):
    """A DataTable of rows keyed by a string, updated with `sync` (see the module)."""

    def __init__(self, columns: Sequence[tuple[str, str, int | None]], **kwargs: Any) -> None:
        """`columns`: (label, key, width or None); `kwargs` go to DataTable as they are."""
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", False)
        super().__init__(**kwargs)
        self._spec = list(columns)
        self._keys: list[str] = []
        self._cells: dict[str, Cells] = {}

    def on_mount(self) -> None:
        for label, key, width in self._spec:
            self.add_column(label, key=key, width=width)

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    def selected_key(self) -> str | None:
        if not self._keys or self.cursor_row < 0 or self.cursor_row >= len(self._keys):
            return None
        return self._keys[self.cursor_row]

    def sync(self, rows: Sequence[tuple[str, Sequence[Cell]]], *, cursor: str | int | None = None) -> bool:
        """Show `rows`; returns True when the table was rebuilt. `cursor`: key or index
        (negative from the end) to put the cursor on after a rebuild."""
        keys = [k for k, _ in rows]
        col_keys = [c[1] for c in self._spec]
        if keys == self._keys and cursor is None:
            for key, given in rows:
                old = self._cells.get(key)
                cells = tuple(given)
                if old == cells:
                    continue
                for i, value in enumerate(cells):
                    if old is None or old[i] != value:
                        self.update_cell(key, col_keys[i], value)
                self._cells[key] = cells
            return False
        keep = self.selected_key()
        old_row = self.cursor_row
        self.clear()
        self._cells = {}
        for key, given in rows:
            cells = tuple(given)
            self.add_row(*cells, key=key)
            self._cells[key] = cells
        self._keys = keys
        target = 0
        if isinstance(cursor, int):
            target = cursor if cursor >= 0 else len(keys) + cursor
        elif isinstance(cursor, str) and cursor in keys:
            target = keys.index(cursor)
        elif keep in keys:
            target = keys.index(keep)
        elif keys:
            target = min(max(old_row, 0), len(keys) - 1)
        if keys:
            self.move_cursor(row=max(0, target), animate=False)
        return True


def styled(value: str, style: str | None) -> Text | str:
    return Text(value, style=style) if style else value
