"""The write paths are lean: SQL statements per request do not grow with lines or orders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.constants import ORDERS


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement the engine sends to the database while the block runs."""
    seen: list[str] = []
    db.session.rollback()  # every measured request starts with no transaction open (BEGIN counts inside)

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def shop(client, factory):
    waiter = factory.make_user("waiter")
    products = [factory.make_product(price=f"{n}.25") for n in range(1, 51)]
    headers = factory.headers(waiter)
    warm = client.post(ORDERS, json={"customer_name": "Warm", "items": [{"product_id": products[0].id,
                                                                                "quantity": 1}]}, headers=headers)
    assert warm.status_code == 201  # the first request on a fresh connection may run set-up statements
    return {"headers": headers, "products": [p.id for p in products]}


def catalogue_lines(shop, n: int) -> list[dict]:
    return [{"product_id": shop["products"][i % 50], "quantity": 1 + i % 5} for i in range(n)]


def new_adhoc_lines(n: int) -> list[dict]:
    tag = uuid.uuid4().hex[:8]
    return [{"product_name": f"Nuevo {tag} {i}", "unit_price": f"{i}.50", "quantity": 1} for i in range(n)]


def existing_adhoc_lines(shop, n: int) -> list[dict]:
    return [{"product_name": f"product {i + 1}", "unit_price": "3.00", "quantity": 2} for i in range(n)]


def count_create(client, shop, lines: list[dict]) -> list[str]:
    body = {"customer_name": "Ana", "items": lines}
    with statements() as seen:
        resp = client.post(ORDERS, json=body, headers=shop["headers"])
    assert resp.status_code == 201, resp.json
    assert len(resp.json["items"]) == len(lines)
    return seen


def describe(one: list[str], many: list[str]) -> str:
    return "\n--- 1:\n" + "\n".join(s[:120] for s in one) + "\n--- many:\n" + "\n".join(s[:120] for s in many)


def mixed_lines(shop, n: int) -> list[dict]:
    return catalogue_lines(shop, n // 2) + new_adhoc_lines(n - n // 2)


def modified_lines(shop, n: int) -> list[dict]:
    """Mixed lines, each with up to 20 modifiers: modifiers are snapshots on the line's own row."""
    lines = mixed_lines(shop, n)
    for i, line in enumerate(lines):
        line["modifiers"] = [{"name": f"Extra {k}", "price": f"{k}.25"} for k in range(min(20, 1 + i))]
    return lines


@pytest.mark.parametrize(
    ("make_lines", "small"),
    [
        pytest.param(catalogue_lines, 1, id="catalogue"),
        pytest.param(lambda shop, n: new_adhoc_lines(n), 1, id="new-adhoc"),
        pytest.param(existing_adhoc_lines, 1, id="existing-adhoc"),
        pytest.param(mixed_lines, 2, id="mixed"),  # the smallest cart with both kinds
        pytest.param(modified_lines, 2, id="modifiers"),  # 1-2 modifiers vs. up to 20 on each of 50 lines
    ],
)
def test_create_statement_count_does_not_grow_with_lines(client, shop, make_lines, small):
    few = count_create(client, shop, make_lines(shop, small))
    fifty = count_create(client, shop, make_lines(shop, 50))
    assert len(fifty) == len(few), describe(few, fifty)


def test_append_statement_count_does_not_grow_with_lines(client, shop):
    order_id = client.post(ORDERS, json={"customer_name": "Ana", "items": catalogue_lines(shop, 1)},
                           headers=shop["headers"]).json["id"]

    def count_append(lines):
        with statements() as seen:
            resp = client.post(f"{ORDERS}/{order_id}/items", json={"items": lines}, headers=shop["headers"])
        assert resp.status_code == 201, resp.json
        return seen

    one = count_append(catalogue_lines(shop, 1) + new_adhoc_lines(1))
    fifty = count_append(catalogue_lines(shop, 25) + new_adhoc_lines(25))
    assert len(fifty) == len(one), describe(one, fifty)
    fifty = count_append(modified_lines(shop, 50))
    assert len(fifty) == len(one), describe(one, fifty)


def count_batch(client, shop, n_orders: int) -> list[str]:
    tag = uuid.uuid4().hex[:8]
    orders = [
        {
            "client_order_id": f"{tag}-{i}",
            "customer_name": f"Mesa {i}",
            "items": [
                {"product_id": shop["products"][i % 50], "quantity": 1},
                {"product_id": shop["products"][(i + 7) % 50], "quantity": 2},
                {"product_name": f"Extra {tag} {i % 4}", "unit_price": "4.50", "quantity": 1},
            ],
        }
        for i in range(n_orders)
    ]
    with statements() as seen:
        resp = client.post(f"{ORDERS}/batch", json={"orders": orders}, headers=shop["headers"])
    assert resp.status_code == 200
    assert [r["status"] for r in resp.json["results"]] == ["created"] * n_orders
    return seen


def test_batch_statement_count_does_not_grow_with_orders(client, shop):
    ten = count_batch(client, shop, 10)
    hundred = count_batch(client, shop, 100)
    assert len(hundred) == len(ten), describe(ten, hundred)


def test_batch_of_duplicates_is_constant_too(client, shop):
    tag = uuid.uuid4().hex[:8]

    def post(n: int) -> list[str]:
        orders = [{"client_order_id": f"{tag}-{i}", "customer_name": "Ana",
                   "items": [{"product_id": shop["products"][0], "quantity": 1}]} for i in range(n)]
        with statements() as seen:
            resp = client.post(f"{ORDERS}/batch", json={"orders": orders}, headers=shop["headers"])
        assert resp.status_code == 200
        return seen

    post(100)
    again_ten = post(10)
    again_hundred = post(100)  # all duplicates: one lookup, no inserts
    assert len(again_hundred) == len(again_ten), describe(again_ten, again_hundred)


def test_create_reads_nothing_back(client, shop):
    """The order and its lines come back from their INSERTs (RETURNING): no savepoint, no SELECT after
    the first INSERT, and the waiter's locations came with the token's user (no statement of their own)."""
    seen = count_create(client, shop, catalogue_lines(shop, 3))
    first_insert = next(i for i, s in enumerate(seen) if s.lstrip().upper().startswith("INSERT"))
    assert not [s for s in seen[first_insert:] if s.lstrip().upper().startswith("SELECT")], describe(seen, [])
    assert not [s for s in seen if "SAVEPOINT" in s.upper()], describe(seen, [])
    assert not [s for s in seen[:first_insert] if "FROM locations" in s], describe(seen, [])


def test_create_reads_the_products_with_the_token_user(client, shop, backend):
    """On PostgreSQL the lines' catalogue products ride with the authentication statement (app/orders/lines.py):
    no statement of their own. SQLite reads them as before."""
    seen = count_create(client, shop, catalogue_lines(shop, 3))
    own = [s for s in seen if s.lstrip().startswith("SELECT products.")]
    assert len(own) == (0 if backend == "postgresql" else 1), describe(seen, [])


def test_the_authentication_statement_is_built_once_per_set_of_riders(client, shop):
    """The user + revocation statement (app/auth/tokens.py) is built once, with bound parameters, for each
    set of riders; requests after the first construct none, whatever their products, lines or tokens."""
    from app.auth.tokens import _authentication_statement

    count_create(client, shop, catalogue_lines(shop, 3))
    built = _authentication_statement.cache_info().misses
    for n in (1, 7, 20):
        count_create(client, shop, catalogue_lines(shop, n))
    assert client.get(ORDERS, headers=shop["headers"]).status_code == 200
    assert _authentication_statement.cache_info().misses == built
    assert _authentication_statement.cache_info().currsize <= 2  # without riders, with the products' rider
