"""Reports routes."""

from app.blueprint import Blueprint

blp = Blueprint("reports", __name__, description="Reports")
