"""Where things are: the project, its Python, its shipped config."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_CONFIG = ROOT / "config.toml"
# The project's virtualenv when there is one (`make test`), else the interpreter running pytest.
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
