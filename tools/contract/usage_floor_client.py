"""Uses the generated Python client (package `comanda_client`) for the floor of v1.2 against a real
server: an admin sets a PIN and makes two tables and a waiter; the waiter opens a check at a table,
moves it to the other table, splits it by seat, and gives a discount approved with the admin's PIN.
Type-checked with mypy --strict by tests/contract/test_generated_clients.py, then run.

    python usage_floor_client.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD   (prints a JSON summary)
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import TypeVar

from comanda_client import AuthenticatedClient, Client
from comanda_client.api.auth import create_approval, login, set_my_pin
from comanda_client.api.locations import list_locations
from comanda_client.api.orders import add_order_discount, create_order, list_order_events, split_order, transfer_order
from comanda_client.api.products import create_product
from comanda_client.api.tables import create_table, list_tables
from comanda_client.api.users import create_user
from comanda_client.models import (
    ApprovalIn,
    ApprovalInAction,
    ApprovalOut,
    DiscountIn,
    LocationPage,
    LoginIn,
    MyPinIn,
    OrderEventPage,
    OrderIn,
    OrderOut,
    Problem,
    ProductIn,
    ProductLineIn,
    ProductOut,
    SplitIn,
    SplitInBy,
    SplitOut,
    TableIn,
    TableListOut,
    TableOut,
    TokenOut,
    TransferIn,
    UserIn,
    UserOut,
    UserRef,
)

T = TypeVar("T")
PIN = "4821"
WAITER_PASSWORD = "floor-waiter-password"  # noqa: S105 - a throwaway test user's


def ok(answer: T | Problem | None) -> T:
    """The typed body of a success; a documented error (problem+json) or nothing is a failure."""
    if answer is None or isinstance(answer, Problem):
        raise SystemExit(f"request failed: {answer!r}")
    return answer


def signed_in(base_url: str, email: str, password: str) -> tuple[AuthenticatedClient, TokenOut]:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    tokens: TokenOut = ok(login.sync(client=anonymous, body=LoginIn(email=email, password=password)))
    client = AuthenticatedClient(base_url=base_url, token=tokens.access_token, raise_on_unexpected_status=True)
    return client, tokens


def main(base_url: str, email: str, password: str) -> dict[str, object]:
    admin, admin_tokens = signed_in(base_url, email, password)
    set_my_pin.sync(client=admin, body=MyPinIn(current_password=password, pin=PIN))
    locations: LocationPage = ok(list_locations.sync(client=admin))
    location_id = next(loc.id for loc in locations.data if loc.default)
    suffix = uuid.uuid4().hex[:6]
    first: TableOut = ok(create_table.sync(location_id, client=admin, body=TableIn(name=f"A{suffix}", area="Salón")))
    second: TableOut = ok(create_table.sync(location_id, client=admin, body=TableIn(name=f"B{suffix}", seats=6)))
    product: ProductOut = ok(create_product.sync(client=admin, body=ProductIn(name=f"Mole {suffix}", price="140.00")))
    waiter_email = f"floor-{suffix}@example.com"
    _: UserOut = ok(create_user.sync(client=admin, body=UserIn(email=waiter_email, name="Luis",
                                                               password=WAITER_PASSWORD)))
    waiter, _tokens = signed_in(base_url, waiter_email, WAITER_PASSWORD)

    lines: list[ProductLineIn] = [ProductLineIn(product_id=product.id, quantity=2, seat=1),
                                  ProductLineIn(product_id=product.id, quantity=1, seat=2)]
    order: OrderOut = ok(create_order.sync(client=waiter, body=OrderIn(customer_name="Mesa", items=list(lines),
                                                                       table_id=first.id, guest_count=2)))
    order = ok(transfer_order.sync(order.id, client=waiter, body=TransferIn(table_id=second.id),
                                   if_match=f'"{order.version}"'))
    split: SplitOut = ok(split_order.sync(order.id, client=waiter, body=SplitIn(by=SplitInBy.SEAT),
                                          if_match=f'"{order.version}"'))
    approval: ApprovalOut = ok(create_approval.sync(client=waiter, body=ApprovalIn(
        approver_id=admin_tokens.user.id, pin=PIN, action=ApprovalInAction.DISCOUNT, order_id=split.source.id,
        max_amount="28.00")))
    discounted: OrderOut = ok(add_order_discount.sync(split.source.id, client=waiter, body=DiscountIn(
        percent="10", reason="Birthday"), x_approval_token=approval.approval_token))
    events: OrderEventPage = ok(list_order_events.sync(discounted.id, client=waiter))
    approved = events.data[-1].approved_by
    tables: TableListOut = ok(list_tables.sync(location_id, client=admin))
    at_second = next(t for t in tables.data if t.id == second.id)
    return {
        "table": order.table,
        "source_id": split.source.id,
        "source_subtotal": split.source.subtotal,
        "new_orders": [(o.id, o.split_from, o.subtotal, o.table_id) for o in split.orders],
        "discount_total": discounted.discount_total,
        "last_event": events.data[-1].type_.value,
        "approved_by": approved.id if isinstance(approved, UserRef) else None,
        "admin_id": admin_tokens.user.id,
        "second_table": (at_second.status.value, sorted(o.id for o in at_second.open_orders)),
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
