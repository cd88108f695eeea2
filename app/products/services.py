"""Catalogue rules. Names are unique after normalization (a unique index enforces it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from app.columns import utcnow
from app.errors import Conflict, ErrorCode, NotFound
from app.extensions import db
from app.models import Product, normalize_name
from app.percent import to_thousandths
from app.web.pagination import paginate


class DuplicateProduct(Conflict):
    code, detail = ErrorCode.DUPLICATE_PRODUCT, "A product with this name already exists."


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_products(args: dict[str, Any]) -> tuple[list[Product], str | None]:
    """Products by name, filtered by q (name fragment), active and category."""
    stmt: Select = select(Product)
    if args.get("q"):
        stmt = stmt.where(Product.name_key.like(f"%{_escape_like(normalize_name(args['q']))}%", escape="\\"))
    if "active" in args:
        stmt = stmt.where(Product.active == args["active"])
    if args.get("category"):
        stmt = stmt.where(Product.category == args["category"])
    return paginate(stmt, (Product.name_key, Product.id), limit=args["limit"], cursor=args["cursor"], descending=False)


def get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound("No such product.")
    return product


def _save(product: Product, changes: dict[str, Any]) -> None:
    """Apply `changes` and flush inside a savepoint, so a concurrent duplicate name is 409, not a broken
    transaction (begin_nested flushes what is already pending, so the changes are made inside it)."""
    try:
        with db.session.begin_nested():
            for attr, value in changes.items():
                setattr(product, attr, value)
            db.session.add(product)
            db.session.flush()
    except IntegrityError:
        raise DuplicateProduct() from None


def _thousandths(percent: Decimal | None) -> int | None:
    """A percentage as stored (app/percent.py: 16 -> 16000); None stays None (the location's rate)."""
    return None if percent is None else to_thousandths(percent)


def create_product(data: dict[str, Any]) -> Product:
    """Add a product; a name that normalizes to an existing one is 409 duplicate_product."""
    if db.session.scalar(select(Product.id).where(Product.name_key == normalize_name(data["name"]))):
        raise DuplicateProduct()
    product = Product()
    _save(
        product,
        {
            "name": data["name"],
            "price_cents": data["price"],
            "category": data.get("category"),
            "active": data["active"],
            "tax_rate_thousandths": _thousandths(data.get("tax_rate")),
        },
    )
    return product


def update_product(product_id: int, data: dict[str, Any]) -> Product:
    """Change name, price, category or active; old orders keep their snapshots."""
    product = get_product(product_id)
    if "name" in data and normalize_name(data["name"]) != product.name_key:
        clash = db.session.scalar(select(Product.id).where(Product.name_key == normalize_name(data["name"])))
        if clash:
            raise DuplicateProduct()
    fields = {"name": "name", "price": "price_cents", "category": "category", "active": "active"}
    changes = {attr: data[field] for field, attr in fields.items() if field in data}
    if "tax_rate" in data:
        changes["tax_rate_thousandths"] = _thousandths(data["tax_rate"])
    _save(product, {**changes, "updated_at": utcnow()})
    return product


def archive_product(product_id: int) -> None:
    """Archive (active=false); archived products stay on old orders and in reports."""
    product = get_product(product_id)
    if product.active:
        product.active = False
        product.updated_at = utcnow()
        db.session.flush()
