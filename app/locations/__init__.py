"""Locations blueprint: the restaurants of the chain (its `blp` is in routes.py)."""
