"""Tables blueprint: a location's tables and their derived occupancy (its `blp` is in routes.py)."""
