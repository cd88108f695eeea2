"""The stack floor under `POST /api/v1/orders`: the design card's own stack doing the bare minimum.

    JWT_SECRET_KEY=<the API's> DATABASE_URL=<a migrated Comanda database> \
        gunicorn -c deploy/gunicorn.conf.py bench.floor_app:app

Flask, flask-jwt-extended verifying the same HS256 access token Comanda issues, a nested marshmallow
schema (unknown fields refused, the same field rules as the API's order body), SQLAlchemy Core on
psycopg2 with the same pool settings, under the same gunicorn. Per request, in one transaction:
authenticate (the token's signature and expiry), check the user is active (one SELECT), validate the
body, read the lines' products (one SELECT), insert the order row (totals, business date) and its
lines (one multi-row INSERT ... RETURNING), commit, and dump the answer with a marshmallow schema.

What it leaves out, and so what the ratio Comanda/floor measures as Comanda's own work: idempotency
keys and the client_order_id race handling beyond the unique index, locations (membership, tax
snapshot, the local business clock), modifiers and pricing rules beyond quantity x price, the report
rollups, the history event, the revocation check, rate limiting, the request log, and the full
Order answer (the floor answers the order's id, client_order_id, total and its lines).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from flask_jwt_extended import JWTManager, get_jwt_identity, jwt_required
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

DSN = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/comanda_bench")
if DSN.startswith(("postgres://", "postgresql://")):
    DSN = "postgresql+psycopg2://" + DSN.split("://", 1)[1]


class LineIn(Schema):
    class Meta:
        unknown = RAISE

    product_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=999))
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    modifiers = fields.List(fields.Dict(), load_default=list)


class OrderIn(Schema):
    class Meta:
        unknown = RAISE

    customer_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    table = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    client_order_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    location_id = fields.Integer(load_default=None, allow_none=True)
    items = fields.List(fields.Nested(LineIn), required=True, validate=validate.Length(min=1, max=100))


class LineOut(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    product_name = fields.String()
    quantity = fields.Integer()
    unit_price = fields.Method("_unit_price")

    def _unit_price(self, row) -> str:
        return f"{row['unit_price_cents'] // 100}.{row['unit_price_cents'] % 100:02d}"


class OrderOut(Schema):
    id = fields.Integer()
    client_order_id = fields.String(allow_none=True)
    total = fields.String()
    items = fields.List(fields.Nested(LineOut))


ORDER_IN, ORDER_OUT = OrderIn(), OrderOut()

app = Flask(__name__)
app.config.update(JWT_SECRET_KEY=os.environ["JWT_SECRET_KEY"], JWT_ALGORITHM="HS256",
                  JWT_DECODE_ALGORITHMS=["HS256"], JWT_TOKEN_LOCATION=["headers"])
JWTManager(app)
engine = create_engine(DSN, pool_size=2, max_overflow=2, pool_pre_ping=False)

USER_ACTIVE = text("SELECT users.id, (SELECT min(location_id) FROM user_locations WHERE user_id = users.id) "
                   "AS location_id FROM users WHERE users.id = :id AND users.active")
PRODUCTS = text("SELECT id, name, price_cents FROM products WHERE id = ANY(:ids) AND active")
ORDER = text(
    "INSERT INTO orders (client_order_id, customer_name, table_label, notes, status, waiter_id, location_id, "
    "total_cents, subtotal_cents, discount_total_cents, tax_total_cents, tip_total_cents, paid_total_cents, "
    "refund_total_cents, tax_rate_thousandths, prices_include_tax, item_count, business_date, local_hour, "
    "created_at, updated_at, version) VALUES (:client_order_id, :customer_name, :table, :notes, 'open', :waiter_id, "
    ":location_id, :total, :total, 0, 0, 0, 0, 0, 0, true, :count, :day, :hour, :now, :now, 1) RETURNING id")


@app.get("/health")
def health():
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return jsonify(status="ok", database="ok")


@app.post("/api/v1/orders")
@jwt_required()
def create_order():
    try:
        body = ORDER_IN.load(request.get_json(force=True))
    except ValidationError as exc:
        return jsonify(code="validation_error", errors=exc.messages), 422
    now = datetime.now(UTC)
    with engine.connect() as conn:
        user = conn.execute(USER_ACTIVE, {"id": int(get_jwt_identity())}).first()
        if user is None:
            return jsonify(code="unauthorized"), 401
        wanted = sorted({line["product_id"] for line in body["items"]})
        products = {row.id: row for row in conn.execute(PRODUCTS, {"ids": wanted})}
        if len(products) != len(wanted):
            conn.rollback()
            return jsonify(code="validation_error"), 422
        total = sum(products[line["product_id"]].price_cents * line["quantity"] for line in body["items"])
        try:
            order_id = conn.execute(ORDER, {
                **body, "waiter_id": user.id, "location_id": body["location_id"] or user.location_id,
                "total": total, "count": sum(line["quantity"] for line in body["items"]), "day": now.date(),
                "hour": now.replace(minute=0, second=0, microsecond=0, tzinfo=None), "now": now,
            }).scalar_one()
        except IntegrityError:
            conn.rollback()
            return jsonify(code="duplicate_client_order_id"), 409
        values = ", ".join(f"(:o, :p{i}, :n{i}, :u{i}, :q{i}, :t{i}, :notes{i}, false, :now)"
                           for i in range(len(body["items"])))
        params: dict = {"o": order_id, "now": now}
        for i, line in enumerate(body["items"]):
            product = products[line["product_id"]]
            params.update({f"p{i}": product.id, f"n{i}": product.name, f"u{i}": product.price_cents,
                           f"q{i}": line["quantity"], f"t{i}": product.price_cents * line["quantity"],
                           f"notes{i}": line["notes"]})
        lines = conn.execute(text(
            "INSERT INTO order_items (order_id, product_id, product_name, unit_price_cents, quantity, net_cents, notes,"
            " voided, created_at) VALUES " + values
            + " RETURNING id, product_id, product_name, quantity, unit_price_cents"), params).mappings().all()
        conn.commit()
    answer = {"id": order_id, "client_order_id": body["client_order_id"],
              "total": f"{total // 100}.{total % 100:02d}", "items": lines}
    return ORDER_OUT.dump(answer), 201
