"""The worker: drives WhatsApp Web in Chromium and sends the queued messages (docs/worker.md).

Entry points: `worker.runner.run_worker` and `python -m worker`. This package file imports
nothing, so that `worker.knowledge` (what the settings need of WhatsApp's page) loads
without Selenium.
"""
