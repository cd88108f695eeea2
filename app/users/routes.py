"""Users routes."""

from app.blueprint import Blueprint

blp = Blueprint("users", __name__, description="Users")
