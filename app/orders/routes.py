"""Orders routes: what the waiters' tablets call all day."""

from __future__ import annotations

from functools import wraps

from flask import request, url_for
from flask.views import MethodView

from app.auth.permissions import auth_required, current_user
from app.models import Order
from app.orders import batch, discounts, floor, history, services, settle
from app.orders.examples import (
    CALCULATE_EXAMPLE,
    CALCULATION_EXAMPLE,
    EVENTS_EXAMPLE,
    SETTLED_ORDER_EXAMPLE,
    WORKED_EXAMPLE,
)
from app.orders.floor_schemas import MergeIn, SharesOut, SharesQuery, SplitIn, SplitOut, TransferIn
from app.orders.schemas import (
    BatchIn,
    BatchOut,
    CalculateIn,
    CalculationOut,
    CancelIn,
    CloseIn,
    DiscountIn,
    EventPage,
    ItemsIn,
    OrderIn,
    OrderListArgs,
    OrderOut,
    OrderPage,
    OrderPatch,
    PaymentIn,
    RefundIn,
)
from app.web.idempotency import idempotent
from app.web.json_body import Blueprint, checks_items_itself
from app.web.openapi import links_doc, problem_doc
from app.web.pagination import PageQuery
from app.web.preconditions import parse_if_match

DRAWER_409 = (" v1.2 cash drawer: `no_open_drawer_session` (cash at a location with drawers and no open session; "
              "nothing written), `drawer_session_closed` (the named session is closed).")
CREATED_ORDER = {"order_id": "$response.body#/id"}  # links from the 201 answer to the operations on it
CREATED_ORDER_FIRST_LINE = {**CREATED_ORDER, "item_id": "$response.body#/items/0/id"}


blp = Blueprint(
    "orders",
    __name__,
    description="Orders, each taken at a location (`location_id`). Waiters see and change only their own; "
    "managers those of their locations; admins every order. Anything else is 404.",
)

IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "Retries with the same key and body replay the first answer (`Idempotent-Replayed: true`); "
            "a different body is 422 `idempotency_key_reused`; a concurrent twin waits and replays, or gets 409 "
            "`idempotency_key_in_progress`. Keys are scoped to the caller and kept at least 24 h.",
        }
    ]
}
APPROVAL_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "X-Approval-Token",
            "required": False,
            "schema": {"type": "string", "maxLength": 256},
            "description": "A manager's approval token (POST /auth/approvals) for this action on this order (a "
            "discount, a refund, the cancel of a closed order, or `void_sent_item` for lines on a kitchen ticket): "
            "lets a waiter do what is otherwise reserved for managers. Used up only if the request succeeds.",
        }
    ]
}
APPROVAL_403 = ("`forbidden`: reserved for managers and admins without an `X-Approval-Token`; `approval_invalid`: "
                "the token is unknown, expired, used, or for another action, order or a smaller max_amount.")
IF_MATCH_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": True,
            "schema": {"type": "string", "maxLength": 64, "example": '"3"'},
            "description": 'The order\'s current version as its ETag, e.g. "3" (428 without, 412 on mismatch).',
        }
    ]
}


IDEMPOTENT_APPROVED_DOC = {"parameters": IDEMPOTENCY_DOC["parameters"] + APPROVAL_DOC["parameters"]}
IDEMPOTENT_IF_MATCH_DOC = {"parameters": IDEMPOTENCY_DOC["parameters"] + IF_MATCH_DOC["parameters"]}


def etag(order: Order) -> str:
    """The order's version as a strong ETag: "3"."""
    return f'"{order.version}"'


def order_response(order: Order, status: int = 200, *, created: bool = False):
    """The order with its ETag, and its Location when this request created it."""
    headers = {"ETag": etag(order)}
    if created:
        headers["Location"] = url_for("orders.OrderById", order_id=order.id)
    return order, status, headers


@blp.route("")
class Orders(MethodView):
    @auth_required()
    @blp.arguments(OrderListArgs, location="query")
    @blp.response(200, OrderPage)
    @blp.doc(operationId="listOrders")
    def get(self, args):
        """List orders, newest first (waiters: their own)"""
        rows, next_cursor = services.list_orders(current_user(), args)
        return {"data": rows, "next_cursor": next_cursor}

    @auth_required()
    @idempotent
    @blp.arguments(
        OrderIn,
        example={
            "customer_name": "Ana",
            "table": "12",
            "notes": None,
            "client_order_id": "tab3-000481",
            "items": [
                {"product_id": 5, "quantity": 2, "notes": "no onion"},
                {"product_name": "Agua de horchata", "unit_price": "25.50", "quantity": 1},
            ],
        },
    )
    @blp.response(201, OrderOut)
    @blp.alt_response(
        409, **problem_doc("`duplicate_client_order_id` (body has `order_id`), `idempotency_key_in_progress`, "
                           "`business_day_closed` (v1.2: the order's business date is closed at its location).")
    )
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="createOrder")
    @blp.doc(**links_doc(201, getOrder=CREATED_ORDER, appendOrderItems=CREATED_ORDER, closeOrder=CREATED_ORDER,
                         cancelOrder=CREATED_ORDER, voidOrderItem=CREATED_ORDER_FIRST_LINE))
    def post(self, data):
        """Create an order; the caller is its waiter"""
        return order_response(services.create_order(current_user(), data), 201, created=True)


@blp.route("/batch")
class OrderBatch(MethodView):
    @auth_required()
    @idempotent
    @checks_items_itself("orders")
    @blp.arguments(BatchIn)
    @blp.response(200, BatchOut)
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="syncOrderBatch")
    def post(self, data):
        """Offline sync: create many orders; each is created, a duplicate, or rejected on its own"""
        return {"results": batch.sync_batch(current_user(), data["orders"])}


@blp.route("/<bigid:order_id>")
class OrderById(MethodView):
    @auth_required()
    @blp.response(200, OrderOut)
    @blp.doc(operationId="getOrder")
    def get(self, order_id):
        """Get an order (ETag: its version)"""
        return order_response(services.visible_order(current_user(), order_id))

    @auth_required()
    @blp.arguments(OrderPatch)
    @blp.response(200, OrderOut)
    @blp.alt_response(409, **problem_doc("`order_not_open`: only an open order can be changed."))
    @blp.alt_response(412, **problem_doc("`precondition_failed`: If-Match is not the current version."))
    @blp.alt_response(428, **problem_doc("`precondition_required`: If-Match is missing."))
    @blp.doc(**IF_MATCH_DOC)
    @blp.doc(operationId="updateOrder")
    def patch(self, data, order_id):
        """Change customer_name, table or notes of an open order (If-Match required)"""
        expected = parse_if_match(request.headers.get("If-Match"))
        order = services.patch_order(current_user(), order_id, data, expected)
        return order_response(order)


@blp.route("/<bigid:order_id>/items")
class OrderItems(MethodView):
    @auth_required()
    @idempotent
    @blp.arguments(ItemsIn)
    @blp.response(201, OrderOut)
    @blp.alt_response(409, **problem_doc("`order_not_open`."))
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="appendOrderItems")
    def post(self, data, order_id):
        """Append lines to an open order (no If-Match: concurrent appends all succeed)"""
        return order_response(services.append_items(current_user(), order_id, data["items"], hold=data["hold"]), 201)


@blp.route("/<bigid:order_id>/items/<bigid:item_id>")
class OrderLine(MethodView):
    @auth_required()
    @blp.response(200, OrderOut)
    @blp.alt_response(403, **problem_doc("`approval_required`: the line is on a kitchen ticket and the caller is not "
                                         "a manager (send an `X-Approval-Token` to void a sent item); "
                                         "`approval_invalid`: the token does not fit."))
    @blp.alt_response(409, **problem_doc("`order_not_open`."))
    @blp.doc(**APPROVAL_DOC)
    @blp.doc(operationId="voidOrderItem")
    def delete(self, order_id, item_id):
        """Void a line (kept with voided: true, excluded from totals and reports)"""
        return order_response(services.void_item(current_user(), order_id, item_id))


@blp.route("/<bigid:order_id>/close")
class OrderClose(MethodView):
    @auth_required()
    @idempotent
    @blp.arguments(CloseIn, example={"payment_method": "card", "tip": "20.00"})
    @blp.response(200, OrderOut, example=SETTLED_ORDER_EXAMPLE)
    @blp.alt_response(409, **problem_doc("`order_not_open`; `balance_due`: `{}` sent while something is owed;"
                                         + DRAWER_409))
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="closeOrder")
    def post(self, data, order_id):
        """Close an open order: with payment_method, pay the whole balance with it first (v1); with {}, only
        when nothing is owed. A tip with nothing owed is a tip-only payment (amount 0)"""
        order = settle.close_order(current_user(), order_id, data.get("payment_method"), data.get("tip", 0),
                                   data.get("drawer_session_id"))
        return order_response(order)


@blp.route("/<bigid:order_id>/cancel")
class OrderCancel(MethodView):
    @auth_required()
    @idempotent
    @blp.arguments(CancelIn)
    @blp.response(200, OrderOut)
    @blp.alt_response(403, **problem_doc("A closed order: " + APPROVAL_403 + " `approval_required`: the order has "
                                         "lines on a kitchen ticket (a waiter needs a `void_sent_item` token)."))
    @blp.alt_response(409, **problem_doc("`order_not_open`: already cancelled;" + DRAWER_409))
    @blp.doc(**IDEMPOTENT_APPROVED_DOC)
    @blp.doc(operationId="cancelOrder")
    def post(self, data, order_id):
        """Cancel an order (a closed one needs a manager or admin, and refunds every unit not refunded
        yet, with the payments' tips)"""
        return order_response(settle.cancel_order(current_user(), order_id, data["reason"],
                                                     data.get("drawer_session_id")))


@blp.route("/calculate")
class OrderCalculate(MethodView):
    @auth_required()
    @blp.arguments(CalculateIn, example=CALCULATE_EXAMPLE)
    @blp.response(200, CalculationOut, example=CALCULATION_EXAMPLE)
    @blp.doc(description="Answers every money field the order would have (lines and discounts without ids; "
             "`discounts[].item_index` counts the body's items from 0, ties in sharing go to the lower index). "
             "Nothing is stored, not even an ad-hoc product; no Idempotency-Key is needed.\n" + WORKED_EXAMPLE)
    @blp.doc(operationId="calculateOrder")
    def post(self, data):
        """Price a create body (plus optional discounts) exactly as the order would be, storing nothing"""
        return services.calculate(current_user(), data)


@blp.route("/<bigid:order_id>/discounts")
class OrderDiscounts(MethodView):
    @auth_required()
    @idempotent
    @blp.arguments(DiscountIn, example={"percent": "10", "reason": "Regular customer"})
    @blp.response(201, OrderOut)
    @blp.alt_response(403, **problem_doc(APPROVAL_403))
    @blp.alt_response(409, **problem_doc("`order_not_open`; `total_below_paid`."))
    @blp.doc(**IDEMPOTENT_APPROVED_DOC, description="Exactly one of percent (0 < p <= 100, 3 decimals) and amount "
             "(> 0); a discount on a voided or unknown line is 422 on item_id; one that would bring total below "
             "paid_total is 409 total_below_paid.\n" + WORKED_EXAMPLE)
    @blp.doc(operationId="addOrderDiscount")
    def post(self, data, order_id):
        """Add a discount to a line (item_id) or the whole order (managers, admins; others with an approval token)"""
        return order_response(discounts.add_discount(current_user(), order_id, data), 201)


@blp.route("/<bigid:order_id>/discounts/<bigid:discount_id>")
class OrderDiscount(MethodView):
    @auth_required()
    @blp.response(200, OrderOut)
    @blp.alt_response(403, **problem_doc(APPROVAL_403))
    @blp.doc(**APPROVAL_DOC)
    @blp.alt_response(409, **problem_doc("`order_not_open`."))
    @blp.doc(operationId="removeOrderDiscount")
    def delete(self, order_id, discount_id):
        """Remove a discount (managers, admins; others with an approval token); every share is computed again"""
        return order_response(discounts.remove_discount(current_user(), order_id, discount_id))


@blp.route("/<bigid:order_id>/payments")
class OrderPayments(MethodView):
    @auth_required()
    @idempotent
    @blp.arguments(PaymentIn, example={"method": "cash", "amount": "32.00", "tip": "4.00", "tendered": "50.00"})
    @blp.response(201, OrderOut, example=SETTLED_ORDER_EXAMPLE)
    @blp.alt_response(409, **problem_doc("`order_not_open`;" + DRAWER_409))
    @blp.alt_response(422, **problem_doc("`exceeds_balance` (amount above balance_due) or `validation_error` "
                                         "(also on `drawer_session_id`: unknown, another location's, or not named "
                                         "while several sessions are open and the caller has none)."))
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="addOrderPayment")
    def post(self, data, order_id):
        """Pay part or all of the balance (split checks: several payments); the order stays open until closed"""
        return order_response(settle.add_payment(current_user(), order_id, data), 201)


@blp.route("/<bigid:order_id>/refunds")
class OrderRefunds(MethodView):
    @auth_required()
    @idempotent
    @blp.arguments(RefundIn, example={"items": [{"item_id": 7, "quantity": 1}], "reason": "Cold taco"})
    @blp.response(201, OrderOut, example=SETTLED_ORDER_EXAMPLE)
    @blp.alt_response(403, **problem_doc(APPROVAL_403))
    @blp.alt_response(409, **problem_doc("`order_not_open`: only closed orders are refunded;" + DRAWER_409))
    @blp.alt_response(422, **problem_doc("`exceeds_refundable_quantity` or `validation_error`."))
    @blp.doc(**IDEMPOTENT_APPROVED_DOC)
    @blp.doc(operationId="refundOrderItems")
    def post(self, data, order_id):
        """Refund units of a closed order's lines (managers, admins; others with an approval token)"""
        return order_response(settle.refund(current_user(), order_id, data), 201)


@blp.route("/<bigid:order_id>/events")
class OrderEvents(MethodView):
    @auth_required()
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, EventPage, example=EVENTS_EXAMPLE)
    @blp.doc(operationId="listOrderEvents")
    def get(self, args, order_id):
        """The order's history, oldest first: one event per change, append-only"""
        order = services.visible_order(current_user(), order_id)
        rows, next_cursor = history.list_events(order, args)
        return {"data": rows, "next_cursor": next_cursor}


# -- the floor (v1.2): transfer, merge, split, shares -----------------------------------------------------

FLOOR_CONFLICTS = problem_doc("`order_not_open`; `split_not_allowed` (with a `detail` saying why): payments or an "
                              "order-level discount on a check, an amount discount on a line moved in part, a split "
                              "that would leave the order with no line, or fewer than two seats with lines.")
PRECONDITIONS = {412: problem_doc("`precondition_failed`: If-Match is not the current version."),
                 428: problem_doc("`precondition_required`: If-Match is missing.")}


def _if_match_first(view):
    """428 for a missing If-Match before anything else (an Idempotency-Key replay or reuse included)."""

    @wraps(view)
    def checked(*args, **kwargs):
        parse_if_match(request.headers.get("If-Match"))
        return view(*args, **kwargs)

    return checked


def _with_preconditions(view):
    """The 412 and 428 answers of an operation that takes If-Match."""
    for status, doc in PRECONDITIONS.items():
        view = blp.alt_response(status, **doc)(view)
    return view


@blp.route("/<bigid:order_id>/transfer")
class OrderTransfer(MethodView):
    @auth_required()
    @_if_match_first
    @idempotent
    @blp.arguments(TransferIn, example={"table_id": 7, "waiter_id": 5})
    @blp.response(200, OrderOut)
    @blp.alt_response(403, **problem_doc("`forbidden`: a waiter may not hand an order to another waiter."))
    @blp.alt_response(409, **problem_doc("`order_not_open`."))
    @blp.alt_response(422, **problem_doc("`validation_error`: a table that is unknown, inactive or of another "
                                         "location (on table_id); a waiter who is unknown, inactive or not a member "
                                         "of the location (on waiter_id)."))
    @_with_preconditions
    @blp.doc(**IDEMPOTENT_IF_MATCH_DOC)
    @blp.doc(operationId="transferOrder")
    def post(self, data, order_id):
        """Move an open order to another table and/or hand it to another waiter (If-Match required)

        A waiter may move their own orders to a table; handing an order to another waiter needs a manager or
        admin, and the new waiter then sees it (the old one no longer does). Event `transferred` with from/to
        table and waiter. Reports attribute the order's figures to the waiter it has when they are read.
        """
        expected = parse_if_match(request.headers.get("If-Match"))
        return order_response(floor.transfer(current_user(), order_id, data, expected))


@blp.route("/<bigid:order_id>/merge")
class OrderMerge(MethodView):
    @auth_required()
    @_if_match_first
    @idempotent
    @blp.arguments(MergeIn, example={"from_order_id": 42})
    @blp.response(200, OrderOut)
    @blp.alt_response(409, **FLOOR_CONFLICTS)
    @blp.alt_response(422, **problem_doc("`validation_error`: from_order_id is this order, of another location, "
                                         "unknown or not yours to change."))
    @_with_preconditions
    @blp.doc(**IDEMPOTENT_IF_MATCH_DOC)
    @blp.doc(operationId="mergeOrder")
    def post(self, data, order_id):
        """Merge another open order of the location into this one (If-Match: this order's version)

        Every non-voided line moves with its notes, seat, modifiers and line discounts, keeping its id; the
        other order ends `status: "merged"` with `merged_into`, every money field 0.00, in no report. Events
        `merged` on both. Refused (409 `split_not_allowed`) when either has payments or order-level discounts.
        """
        expected = parse_if_match(request.headers.get("If-Match"))
        return order_response(floor.merge(current_user(), order_id, data["from_order_id"], expected))


@blp.route("/<bigid:order_id>/split")
class OrderSplit(MethodView):
    @auth_required()
    @_if_match_first
    @idempotent
    @blp.arguments(SplitIn, example={"by": "items", "items": [{"item_id": 7, "quantity": 1}]})
    @blp.response(201, SplitOut)
    @blp.alt_response(409, **FLOOR_CONFLICTS)
    @blp.alt_response(422, **problem_doc("`exceeds_quantity`: more units than a line has (on items.N.quantity); "
                                         "`validation_error`: a voided or unknown line (on items.N.item_id)."))
    @_with_preconditions
    @blp.doc(**IDEMPOTENT_IF_MATCH_DOC)
    @blp.doc(operationId="splitOrder")
    def post(self, data, order_id):
        """Split an open order's check, by items (one new order) or by seat (one per seat but the lowest)

        New orders keep the location, waiter, table, guest name and business date, are open, carry
        `split_from`, and get `created` events naming the source; the source gets one `split` event. A line
        moved in part becomes two lines (the moved part is a new line); a percentage line discount applies to
        each part, and what it took of the whole line is shared between the parts (oldest discount first, in
        proportion to what each part has left, largest remainder, a tie to the part that stays), each part
        keeping its share as the discount's `applied`: discounts add up to the cent. Subtotals add up
        exactly; each part's tax is computed on its own, so taxes may round differently by at most one cent
        per line moved in part. One transaction: with a stale If-Match nothing moves (412).
        """
        expected = parse_if_match(request.headers.get("If-Match"))
        source, orders = floor.split(current_user(), order_id, data, expected)
        return {"source": source, "orders": orders}, 201, {"ETag": etag(source)}


@blp.route("/<bigid:order_id>/shares")
class OrderShares(MethodView):
    @auth_required()
    @blp.arguments(SharesQuery, location="query")
    @blp.response(200, SharesOut, example={"balance_due": "100.00", "parts": 3, "shares": ["33.34", "33.33", "33.33"]})
    @blp.doc(operationId="getOrderShares")
    def get(self, args, order_id):
        """The balance due split evenly in 2-20 shares, largest first, adding up exactly (stores nothing)

        Each diner then pays their share as an ordinary payment.
        """
        return floor.shares(current_user(), order_id, args["parts"])
