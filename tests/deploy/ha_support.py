"""Imports deploy/ha's cluster and drill modules (scripts, not a package) for the HA tests."""

from __future__ import annotations

import sys
from pathlib import Path

HA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "ha"
if str(HA_DIR) not in sys.path:
    sys.path.insert(0, str(HA_DIR))

import cluster  # noqa: E402
import drill  # noqa: E402

__all__ = ["cluster", "drill"]
