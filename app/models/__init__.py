"""All models, imported so Alembic and the app see every table."""

from app.models.idempotency import IdempotencyKey
from app.models.order import ORDER_STATUSES, PAYMENT_METHODS, Order, OrderItem
from app.models.product import Product, clean_name, normalize_name
from app.models.report import ProductDaily, SalesHourly, WaiterDaily
from app.models.token import RevokedToken
from app.models.user import ROLES, User

__all__ = [
    "IdempotencyKey",
    "ORDER_STATUSES",
    "Order",
    "OrderItem",
    "PAYMENT_METHODS",
    "Product",
    "ProductDaily",
    "ROLES",
    "RevokedToken",
    "SalesHourly",
    "User",
    "WaiterDaily",
    "clean_name",
    "normalize_name",
]
