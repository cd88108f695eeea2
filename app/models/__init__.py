"""All models, imported so Alembic and the app see every table."""

from app.models.approval import ApprovalToken
from app.models.check import EVENT_TYPES, Discount, OrderEvent, Payment, Refund, RefundItem
from app.models.counter import LocationCounter
from app.models.drawer import MOVEMENT_TYPES, BusinessDay, Drawer, DrawerMovement, DrawerSession
from app.models.feed import FeedEvent, Webhook, WebhookDelivery
from app.models.idempotency import IdempotencyKey
from app.models.kitchen import (
    KITCHEN_STATUSES,
    KitchenRoute,
    KitchenTicket,
    KitchenTicketLine,
    Station,
    category_key,
)
from app.models.location import Location, location_name_key, user_locations
from app.models.order import ORDER_STATUSES, PAYMENT_METHODS, Order, OrderItem
from app.models.product import Product, clean_name, normalize_name
from app.models.report import (
    PaymentDaily,
    PaymentMonthly,
    PaymentWaiterDaily,
    PaymentWaiterMonthly,
    ProductDaily,
    ProductMonthly,
    SalesHourly,
    SalesMonthly,
    WaiterDaily,
    WaiterMonthly,
)
from app.models.table import Table, table_name_key
from app.models.token import RevokedToken
from app.models.user import ROLES, User

__all__ = [
    "ApprovalToken",
    "BusinessDay",
    "Drawer",
    "DrawerMovement",
    "DrawerSession",
    "MOVEMENT_TYPES",
    "Discount",
    "EVENT_TYPES",
    "FeedEvent",
    "OrderEvent",
    "Payment",
    "Refund",
    "RefundItem",
    "IdempotencyKey",
    "KITCHEN_STATUSES",
    "KitchenRoute",
    "KitchenTicket",
    "KitchenTicketLine",
    "Station",
    "category_key",
    "LocationCounter",
    "Location",
    "ORDER_STATUSES",
    "Order",
    "OrderItem",
    "PAYMENT_METHODS",
    "Product",
    "PaymentDaily",
    "PaymentMonthly",
    "PaymentWaiterDaily",
    "PaymentWaiterMonthly",
    "ProductDaily",
    "ProductMonthly",
    "ROLES",
    "RevokedToken",
    "SalesHourly",
    "SalesMonthly",
    "Table",
    "User",
    "Webhook",
    "WebhookDelivery",
    "WaiterDaily",
    "WaiterMonthly",
    "clean_name",
    "location_name_key",
    "normalize_name",
    "table_name_key",
    "user_locations",
]
