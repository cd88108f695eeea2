"""Turn requested lines into priced snapshots, finding or creating ad-hoc products in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from sqlalchemy import bindparam, func, select

from app.auth.tokens import ride_with_authentication
from app.columns import utcnow
from app.database import dialect_name, insert_for_dialect
from app.extensions import db
from app.models import OrderItem, Product, clean_name, normalize_name
from app.percent import from_thousandths


@dataclass(frozen=True)
class Line:
    """A new line: `unit_price_cents` is the base price plus the modifiers' prices. The tax rate is the
    product's (None: the order's, filled in by app/orders/checks.py), the figures come from pricing."""

    product_id: int | None  # None only in POST /orders/calculate, for a name not in the catalogue
    product_name: str
    unit_price_cents: int
    quantity: int
    notes: str | None
    voided: bool = False  # new lines never are; lets rollups read a Line like an OrderItem
    modifiers: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "price_cents"}]
    seat: int | None = None  # 0 or None: shared
    tax_rate_thousandths: int | None = None
    discount_cents: int = 0
    tax_cents: int = 0
    net_cents: int = 0
    course: int = 1  # the kitchen (app/orders/kitchen.py): course 1-9, status and station when sent
    kitchen_status: str = "sent"
    station_id: int | None = None
    category: str | None = None  # the product's, for routing (not stored on the line)

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def tax_rate(self) -> Decimal:
        return from_thousandths(self.tax_rate_thousandths or 0)

    def row(self) -> dict[str, Any]:
        """Column values of the order_items row for this line."""
        return {
            "product_id": self.product_id,
            "product_name": self.product_name,
            "unit_price_cents": self.unit_price_cents,
            "quantity": self.quantity,
            "notes": self.notes,
            "seat": self.seat,
            "voided": False,
            "modifiers": self.modifiers,
            "tax_rate_thousandths": self.tax_rate_thousandths or 0,
            "discount_cents": self.discount_cents,
            "tax_cents": self.tax_cents,
            "net_cents": self.net_cents,
            "course": self.course,
            "kitchen_status": self.kitchen_status,
            "station_id": self.station_id,
            "created_at": utcnow(),
        }

    def to_item(self) -> OrderItem:
        return OrderItem(**self.row())


Resolution = tuple[list[Line], dict[str, list[str]]]


@dataclass(frozen=True)
class CatalogueProduct:
    """What a line takes from its catalogue product (read with the request's authentication)."""

    id: int
    name: str
    price_cents: int
    category: str | None
    tax_rate_thousandths: int | None
    active: bool


RIDING_PRODUCTS = "comanda.products_riding_authentication"  # request.environ: [[id, name, ...], ...] or None
RIDING_IDS = "comanda.products_riding_ids"  # request.environ: the ids that read asked for
MAX_RIDING_IDS = 100


def _riding_products_column() -> Any:
    """The products whose ids are `riding_product_ids`, as one JSON array of rows (built once)."""
    p = Product.__table__.c
    row = func.json_build_array(p.id, p.name, p.price_cents, p.category, p.tax_rate_thousandths, p.active)
    return select(func.json_agg(row)).where(p.id.in_(bindparam("riding_product_ids", expanding=True))).scalar_subquery()


@ride_with_authentication(RIDING_PRODUCTS, _riding_products_column)
def _products_with_authentication() -> dict[str, Any] | None:
    """A POST of the orders blueprint whose JSON body has `items` with product ids will read those
    products (resolve_lines): on PostgreSQL that read rides with the authentication statement, as one
    JSON array column, and costs no round trip. Only a peek at the body: it validates nothing, and a
    body that is refused later merely read a few products for nothing."""
    if request.method != "POST" or request.blueprint != "orders":
        return None
    body = request.get_json(silent=True)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or dialect_name() != "postgresql":
        return None
    ids = sorted({item["product_id"] for item in items if isinstance(item, dict)
                  and type(item.get("product_id")) is int and 0 < item["product_id"] < 2**63})
    if not ids or len(ids) > MAX_RIDING_IDS:
        return None
    request.environ[RIDING_IDS] = frozenset(ids)
    return {"riding_product_ids": ids}


def _catalogue_by_id(line_sets: list[list[dict[str, Any]]]) -> dict[int, Product | CatalogueProduct]:
    ids = {line["product_id"] for lines in line_sets for line in lines if "product_id" in line}
    if not ids:
        return {}
    if has_request_context() and RIDING_PRODUCTS in request.environ:
        asked = request.environ.pop(RIDING_IDS, frozenset())
        rows = request.environ.pop(RIDING_PRODUCTS) or []
        if ids <= asked:  # read in this transaction, by the authentication statement
            found = (CatalogueProduct(*row) for row in rows)
            return {product.id: product for product in found if product.id in ids}
    return {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}


def _catalogue_by_name(line_sets: list[list[dict[str, Any]]], create_missing: bool = True) -> dict[str, Product]:
    """Products for every ad-hoc name; missing ones are created (race-safe: ON CONFLICT DO NOTHING)
    unless `create_missing` is false (a dry run)."""
    wanted: dict[str, dict[str, Any]] = {}
    for lines in line_sets:
        for line in lines:
            if "product_name" in line:
                wanted.setdefault(normalize_name(line["product_name"]), line)
    if not wanted:
        return {}
    found = {p.name_key: p for p in db.session.scalars(select(Product).where(Product.name_key.in_(wanted)))}
    # Sorted, so two requests introducing the same new names lock them in the same order (no deadlock).
    missing = sorted(key for key in wanted if key not in found)
    if missing and create_missing:
        now = utcnow()
        rows = [
            {
                "name": clean_name(wanted[key]["product_name"]),
                "name_key": key,
                "price_cents": wanted[key]["unit_price"],
                "category": None,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for key in missing
        ]
        # A concurrent order may create the same product: its insert wins, ours does nothing.
        db.session.execute(
            insert_for_dialect(Product.__table__).on_conflict_do_nothing(index_elements=["name_key"]), rows
        )
        found.update({p.name_key: p for p in db.session.scalars(select(Product).where(Product.name_key.in_(missing)))})
    return found


def _modifiers(line: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": m["name"], "price_cents": m["price"]} for m in line.get("modifiers", ())]


def resolve_lines(line_sets: list[list[dict[str, Any]]], *, create_missing: bool = True) -> list[Resolution]:
    """For each list of requested lines: the lines with their prices (base plus modifiers) and the
    products' tax rates, or errors keyed items.<i>.<field>. A dry run (`create_missing=False`)
    creates no product: an unknown ad-hoc name gets product_id None."""
    by_id = _catalogue_by_id(line_sets)
    by_name = _catalogue_by_name(line_sets, create_missing)
    results: list[Resolution] = []
    for lines in line_sets:
        resolved: list[Line] = []
        errors: dict[str, list[str]] = {}
        for index, line in enumerate(lines):
            if "product_id" in line:
                product = by_id.get(line["product_id"])
                if product is None or not product.active:
                    reason = "Unknown product." if product is None else "Product is archived."
                    errors[f"items.{index}.product_id"] = [reason]
                    continue
                price = product.price_cents
            else:
                product = by_name.get(normalize_name(line["product_name"]))
                price = line["unit_price"]  # the ad-hoc line keeps the price it was sent with
            modifiers = _modifiers(line)
            resolved.append(
                Line(
                    product.id if product else None,
                    product.name if product else clean_name(line["product_name"]),
                    price + sum(m["price_cents"] for m in modifiers),
                    line["quantity"],
                    line.get("notes"),
                    modifiers=modifiers,
                    seat=line.get("seat"),
                    tax_rate_thousandths=product.tax_rate_thousandths if product else None,
                    course=line.get("course", 1),
                    category=product.category if product else None,
                )
            )
        results.append((resolved, errors))
    return results
