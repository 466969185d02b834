"""The shared job store (SQLite or PostgreSQL through `dataset`). Imports nothing else of the product
(but the leaf module `dburl`, which says whether a database is a file or a server)."""
from . import states
from .states import IllegalTransition
from .accounts import DEFAULT_ACCOUNT
from .store import ReadMostlyStore, Store, StoreError

__all__ = ["DEFAULT_ACCOUNT", "Store", "ReadMostlyStore", "StoreError", "IllegalTransition", "states"]
