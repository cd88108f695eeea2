"""Products blueprint."""

from app.products.routes import blp

__all__ = ["blp"]
