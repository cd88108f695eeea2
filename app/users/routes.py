"""Users routes."""

from flask_smorest import Blueprint

blp = Blueprint("users", __name__, description="Users")
