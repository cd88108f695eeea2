"""Products routes."""

from flask_smorest import Blueprint

blp = Blueprint("products", __name__, description="Products")
