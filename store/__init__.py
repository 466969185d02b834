"""The shared job store (SQLite or PostgreSQL through `dataset`): all SQL of the project.
Imports nothing else of the product but `common` (whether a database is a file or a
server)."""

from . import states
from .states import IllegalTransition
from .store import ReadMostlyStore, Store, StoreError

__all__ = ["IllegalTransition", "ReadMostlyStore", "Store", "StoreError", "states"]
