"""Delivering the outbox: each event the store wrote in the same transaction as its
change goes to every `[[webhooks]]` receiver (signed JSON over HTTP) and to the `[alerts]`
command (the same JSON on stdin), retried with backoff, in order per account, at least
once. The supervisor runs a `Deliverer` in a thread of its own.

Imports the store, the settings and common only (checked by import-linter)."""

from .deliverer import Deliverer
from .signing import HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign, verify

__all__ = ["HEADER_ID", "HEADER_SIGNATURE", "HEADER_TIMESTAMP", "Deliverer", "sign", "verify"]
