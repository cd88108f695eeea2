"""Products blueprint: the `blp` lives in routes.py, so importing services does not load the routes."""
