"""Rollup maintenance: the order services call these on every change (stub; reports work fills it in).

Interface used by app/orders/services.py:
- contribution(order) -> Contribution: what the order adds to the reports in its current state
  (empty when cancelled), computed from the in-memory order and its items.
- record(changes): insert the delta rows for [(before, after), ...] pairs; before/after may be None.
"""

from __future__ import annotations

from typing import Any

Contribution = Any


def contribution(order) -> Contribution:
    return None


def record(changes: list[tuple[Contribution | None, Contribution | None]]) -> None:
    return None
