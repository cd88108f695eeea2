"""Orders blueprint."""

from app.orders.routes import blp

__all__ = ["blp"]
