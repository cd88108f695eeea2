"""Reports blueprint."""

from app.reports.routes import blp

__all__ = ["blp"]
