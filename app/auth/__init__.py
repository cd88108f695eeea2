"""Auth blueprint."""

from app.auth.routes import blp

__all__ = ["blp"]
