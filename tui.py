#!/usr/bin/env python3
"""WhatsApp bulk sender: `python tui.py` opens the dashboard; `python tui.py --help` lists the commands."""

import gc
import sys

from cli import main

if __name__ == "__main__":
    status = main()
    # The work is done and written: spare the interpreter a last collection over every
    # object still alive (a tenth of a second after a big import).
    gc.freeze()
    sys.exit(status)
