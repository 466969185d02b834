"""The worker: drives WhatsApp Web in Chromium and sends the queued messages (docs/worker.md)."""
from .clock import Clock, FakeClock, SystemClock
from .runner import EXIT_CRASH, EXIT_OK, EXIT_RESTART, EXIT_USER, main, run_worker

__all__ = ["Clock", "FakeClock", "SystemClock", "main", "run_worker",
           "EXIT_OK", "EXIT_CRASH", "EXIT_USER", "EXIT_RESTART"]
