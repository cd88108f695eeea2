"""Reports routes: parse the query, call the service, answer JSON or CSV."""

from __future__ import annotations

from app.auth.permissions import auth_required, current_user
from app.reports import services
from app.reports.export import csv_response, wants_csv
from app.reports.schemas import (
    ProductRowOut,
    ProductsQuery,
    ProductsReportOut,
    ReportQuery,
    SalesQuery,
    SalesReportOut,
    SalesRowOut,
    WaiterRowOut,
    WaitersReportOut,
)
from app.web.json_body import Blueprint

blp = Blueprint(
    "reports",
    __name__,
    description=(
        "Sales reports over business dates (inclusive; default the 30 business days ending today). "
        "Cancelled orders and voided lines never count; an order counts in `orders` when it has at least "
        "one non-voided line, so `/products` totals.orders, the sum of `/waiters` orders and the sum of "
        "`/sales` orders agree for the same range and filters. Lines are attributed to their order's "
        "business date and creation hour, even when appended later. Managers and admins see every order; "
        "a waiter sees only their own. `?format=csv` or `Accept: text/csv` answers an RFC 4180 CSV "
        "attachment (header row, the `data` rows only, money as decimal strings, names starting with "
        "= + - @ prefixed by an apostrophe). Unknown query parameters are 422."
    ),
)

CSV_ANSWER = {"schema": {"type": "string", "description": "RFC 4180 CSV: a header row, then the data rows."},
              "content_type": "text/csv", "success": True}


def _filename(name: str, args: dict) -> str:
    return f"{name}_{args['start_date'].isoformat()}_{args['end_date'].isoformat()}.csv"


@blp.route("/products", methods=["GET"])
@auth_required()
@blp.arguments(ProductsQuery, location="query")
@blp.response(200, ProductsReportOut)
@blp.alt_response(200, **CSV_ANSWER)
@blp.doc(operationId="getProductsReport")
def products_report(args: dict):
    """Products sold: quantity, revenue and orders per product, most sold first.

    `totals` cover every product of the range whatever `limit`; `totals.orders` counts distinct
    orders, so it is not the sum of the rows' `orders`. `product_name` is the catalogue's current name.
    """
    report = services.products_report(args, current_user())
    if wants_csv(args):
        return csv_response(report.data, ProductRowOut, _filename("products", args), frozenset({"product_name"}))
    return report


@blp.route("/waiters", methods=["GET"])
@auth_required()
@blp.arguments(ReportQuery, location="query")
@blp.response(200, WaitersReportOut)
@blp.alt_response(200, **CSV_ANSWER)
@blp.doc(operationId="getWaitersReport")
def waiters_report(args: dict):
    """Sales per waiter: orders, items, revenue and average ticket, highest revenue first."""
    report = services.waiters_report(args, current_user())
    if wants_csv(args):
        return csv_response(report.data, WaiterRowOut, _filename("waiters", args), frozenset({"waiter_name"}))
    return report


@blp.route("/sales", methods=["GET"])
@auth_required()
@blp.arguments(SalesQuery, location="query")
@blp.response(200, SalesReportOut)
@blp.alt_response(200, **CSV_ANSWER)
@blp.doc(operationId="getSalesReport")
def sales_report(args: dict):
    """Sales over time per business day or local hour, with a row for every period (zeros included).

    Hourly periods are local wall-clock hours `YYYY-MM-DDTHH:00`, 24 per business day from the hour
    BUSINESS_DAY_STARTS_AT falls in (one more in the range when it has minutes). On a DST change the
    skipped hour is a zero row and the repeated hour is one row holding both.
    """
    report = services.sales_report(args, current_user())
    if wants_csv(args):
        return csv_response(report.data, SalesRowOut, _filename(f"sales_{args['granularity']}", args))
    return report
