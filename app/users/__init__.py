"""Users blueprint."""

from app.users.routes import blp

__all__ = ["blp"]
