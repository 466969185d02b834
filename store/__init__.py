"""The shared job store (SQLite through `dataset`). Imports nothing else of the product."""
from . import states
from .states import IllegalTransition
from .accounts import DEFAULT_ACCOUNT
from .store import ReadMostlyStore, Store, StoreError

__all__ = ["DEFAULT_ACCOUNT", "Store", "ReadMostlyStore", "StoreError", "IllegalTransition", "states"]
