"""Locations blueprint: the restaurants of the chain."""

from app.locations.routes import blp

__all__ = ["blp"]
