"""Auth routes."""

from app.blueprint import Blueprint

blp = Blueprint("auth", __name__, description="Auth")
