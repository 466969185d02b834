#!/usr/bin/env python3
"""WhatsApp bulk sender: `python tui.py` opens the dashboard; `python tui.py --help` lists the commands."""
import sys

from cli import main

if __name__ == "__main__":
    sys.exit(main())
