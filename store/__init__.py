"""The shared job store (SQLite through `dataset`). Imports nothing else of the product."""
from . import states
from .states import IllegalTransition
from .store import ReadMostlyStore, Store, StoreError

__all__ = ["Store", "ReadMostlyStore", "StoreError", "IllegalTransition", "states"]
