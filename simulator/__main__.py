"""``python -m simulator [flags]``: same as ``python tui.py simulator [flags]``."""

import sys

from simulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
