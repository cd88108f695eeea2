"""Orders routes."""

from flask_smorest import Blueprint

blp = Blueprint("orders", __name__, description="Orders")
