"""The floor under `POST /api/v1/orders`: the same order inserts with nothing of Comanda around them.

    gunicorn -c deploy/gunicorn.conf.py bench.baseline_app:app     # DATABASE_URL: a migrated Comanda database

A bare WSGI callable (no framework, no auth, no validation library, no ORM, no logging) that takes
the same JSON body as `POST /api/v1/orders` and, on one psycopg2 connection per worker, in one
transaction: reads the lines' products (name and price, for the snapshot), inserts the order row
with its totals and business date, inserts its lines in one multi-row INSERT, commits, and
answers 201 with `{"id", "client_order_id", "total"}`. A repeated `client_order_id` is 409, a body
it cannot use is 422. `GET /health` answers 200 once the database is reachable.

It writes the same tables the application does, so the benchmark counts both apps' orders the
same way. It does not maintain the report rollups, check a token or write history: those are
part of what the benchmark measures as the application's overhead. Columns that later
migrations add as NOT NULL without a default (e.g. a `location_id`) are filled from the
database: the first location for `location_id`, zero, false or now for the rest, so the
baseline keeps running while the schema grows.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import psycopg2
import psycopg2.errors

DSN = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/comanda_bench")
if DSN.startswith(("postgresql+", "postgres://")):
    DSN = "postgresql://" + DSN.split("://", 1)[1]

ORDER_COLUMNS = (
    "client_order_id",
    "customer_name",
    "table_label",
    "notes",
    "status",
    "waiter_id",
    "total_cents",
    "item_count",
    "business_date",
    "local_hour",
    "created_at",
    "updated_at",
    "version",
)
ITEM_COLUMNS = (
    "order_id", "product_id", "product_name", "unit_price_cents", "quantity", "notes", "voided", "created_at"
)


class _State:
    """Per worker (created lazily, after gunicorn's fork): the connection and the statements."""

    def __init__(self) -> None:
        self.conn = psycopg2.connect(DSN)
        with self.conn.cursor() as cur:
            cur.execute("SELECT min(id) FROM users WHERE active")
            self.waiter_id = cur.fetchone()[0]
            order_extra = self._extra_columns(cur, "orders", ORDER_COLUMNS)
            item_extra = self._extra_columns(cur, "order_items", ITEM_COLUMNS)
        self.conn.commit()
        order_cols = ORDER_COLUMNS + tuple(order_extra)
        self.order_extra = tuple(order_extra.values())
        self.item_cols = ITEM_COLUMNS + tuple(item_extra)
        self.item_extra = tuple(item_extra.values())
        self.order_sql = (
            f"INSERT INTO orders ({', '.join(order_cols)}) VALUES ({', '.join(['%s'] * len(order_cols))}) RETURNING id"
        )
        self.item_row = "(" + ", ".join(["%s"] * len(self.item_cols)) + ")"

    def _extra_columns(self, cur, table: str, known: tuple[str, ...]) -> dict[str, object]:
        """Values for NOT NULL columns without a default that this file does not know about."""
        cur.execute(
            """SELECT column_name, data_type FROM information_schema.columns
               WHERE table_schema = 'public' AND table_name = %s AND is_nullable = 'NO'
                 AND column_default IS NULL AND is_identity = 'NO'""",
            (table,),
        )
        extra: dict[str, object] = {}
        for name, data_type in cur.fetchall():
            if name in known or name == "id":
                continue
            if name == "location_id":
                cur.execute("SELECT min(id) FROM locations")
                extra[name] = cur.fetchone()[0]
            elif data_type in ("integer", "bigint", "smallint", "numeric"):
                extra[name] = 0
            elif data_type == "boolean":
                extra[name] = False
            elif data_type.startswith("timestamp"):
                extra[name] = datetime.now(UTC)
            else:
                extra[name] = ""
        return extra


_state: _State | None = None


def _get_state() -> _State:
    global _state
    if _state is None or _state.conn.closed:
        _state = _State()
    return _state


def _answer(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def create_order(state: _State, body: dict) -> tuple[str, dict]:
    lines = body["items"]
    wanted = sorted({int(line["product_id"]) for line in lines})
    conn = state.conn
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, name, price_cents FROM products WHERE id = ANY(%s) AND active", (wanted,))
            products = {row[0]: row for row in cur.fetchall()}
            if len(products) != len(wanted):
                conn.rollback()
                return "422 Unprocessable Entity", {"code": "validation_error"}
            now = datetime.now(UTC)
            total = sum(products[int(line["product_id"])][2] * int(line["quantity"]) for line in lines)
            count = sum(int(line["quantity"]) for line in lines)
            cur.execute(
                state.order_sql,
                (
                    body.get("client_order_id"),
                    body["customer_name"],
                    body.get("table"),
                    body.get("notes"),
                    "open",
                    state.waiter_id,
                    total,
                    count,
                    now.date(),
                    now.replace(minute=0, second=0, microsecond=0, tzinfo=None),
                    now,
                    now,
                    1,
                    *state.order_extra,
                ),
            )
            order_id = cur.fetchone()[0]
            params: list = []
            for line in lines:
                product = products[int(line["product_id"])]
                params += [order_id, product[0], product[1], product[2], int(line["quantity"]), line.get("notes"),
                           False, now, *state.item_extra]
            cur.execute(
                f"INSERT INTO order_items ({', '.join(state.item_cols)}) VALUES "
                + ", ".join([state.item_row] * len(lines)),
                params,
            )
        conn.commit()
    except psycopg2.errors.UniqueViolation:
        conn.rollback()
        return "409 Conflict", {"code": "duplicate_client_order_id"}
    except Exception:
        conn.rollback()
        raise
    return "201 Created", {"id": order_id, "client_order_id": body.get("client_order_id"),
                           "total": f"{total // 100}.{total % 100:02d}"}


def app(environ, start_response):
    path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
    if path == "/health":
        state = _get_state()
        with state.conn.cursor() as cur:
            cur.execute("SELECT 1")
        state.conn.rollback()
        return _answer(start_response, "200 OK", {"status": "ok", "database": "ok"})
    if path != "/api/v1/orders" or method != "POST":
        return _answer(start_response, "404 Not Found", {"code": "not_found"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length))
        items = body["items"]
        if not isinstance(items, list) or not items:
            raise ValueError("items")
    except (ValueError, KeyError, TypeError):
        return _answer(start_response, "422 Unprocessable Entity", {"code": "validation_error"})
    status, answer = create_order(_get_state(), body)
    return _answer(start_response, status, answer)
