"""The cash drawer (API.md v1.2): drawers, sessions, movements, the X and the Z, the day close."""
