"""Reports routes."""

from flask_smorest import Blueprint

blp = Blueprint("reports", __name__, description="Reports")
