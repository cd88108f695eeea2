"""Reports routes: parse the query, call the service, answer JSON or CSV."""

from __future__ import annotations

from app.auth.permissions import auth_required, current_user
from app.reports import services
from app.reports.export import csv_response, wants_csv
from app.reports.schemas import (
    LocationRowOut,
    LocationsReportOut,
    PaymentRowOut,
    PaymentsQuery,
    PaymentsReportOut,
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
        "business date and creation hour, even when appended later. Each order counts on its own location's "
        "business date and local hour. `?location_id=` narrows a report to one location (outside the caller's: "
        "404); by default a report covers every location the caller may see, and answers `location_id` and "
        "`timezone` of that location, or null for both over several. Managers see the orders of their "
        "locations, admins every order, a waiter only their own. `?format=csv` or `Accept: text/csv` answers "
        "an RFC 4180 CSV attachment (header row, the `data` rows only, money as decimal strings, names starting with "
        "= + - @ prefixed by an apostrophe; v1's columns first, then the v1.1 money figures). Unknown query "
        "parameters are 422.\n\n"
        "Money figures (v1.1): `gross` (the lines' line_total), `discounts`, `tax` (the lines' tax less the refunds' "
        "tax), `refunds` (what refunds gave back, tax included), `revenue` = net sales before tax (the lines' net less "
        "the refunds' net; v1's figure when there are no discounts, refunds or taxes) and `tips` (the orders' "
        "payments' tips). Lines and tips count on their order's business date and hour, each refund on its own "
        "business date and the local hour it was made in. A cancelled order counts nowhere but in `/payments`. "
        "For closed orders with no refunds, revenue + tax + tips equals what their payments collected."
    ),
)

CSV_ANSWER = {"schema": {"type": "string", "description": "RFC 4180 CSV: a header row, then the data rows."},
              "content_type": "text/csv", "success": True}


def _filename(name: str, report: services.Report) -> str:
    return f"{name}_{report.start_date.isoformat()}_{report.end_date.isoformat()}.csv"


@blp.route("/products", methods=["GET"])
@auth_required()
@blp.arguments(ProductsQuery, location="query")
@blp.response(200, ProductsReportOut)
@blp.alt_response(200, **CSV_ANSWER)
@blp.doc(operationId="getProductsReport")
def products_report(args: dict):
    """Products sold: quantity, revenue, orders and the money figures per product, most sold first.

    `totals` cover every product of the range whatever `limit`; `totals.orders` counts distinct
    orders, so it is not the sum of the rows' `orders`. `product_name` is the catalogue's current name.
    A product refunded on a day it sold nothing is a row with `quantity` and `orders` 0.
    """
    report = services.products_report(args, current_user())
    if wants_csv(args):
        return csv_response(report.data, ProductRowOut, _filename("products", report), frozenset({"product_name"}))
    return report


@blp.route("/waiters", methods=["GET"])
@auth_required()
@blp.arguments(ReportQuery, location="query")
@blp.response(200, WaitersReportOut)
@blp.alt_response(200, **CSV_ANSWER)
@blp.doc(operationId="getWaitersReport")
def waiters_report(args: dict):
    """Sales per waiter: orders, items, revenue, average ticket, the money figures and tips, highest revenue first.

    Tips belong to the order's waiter. A waiter with only a refund (or a tip) in the range is a row with `orders` 0.
    """
    report = services.waiters_report(args, current_user())
    if wants_csv(args):
        return csv_response(report.data, WaiterRowOut, _filename("waiters", report), frozenset({"waiter_name"}))
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
    the location's day start falls in (one more in the range when it has minutes); over several
    locations, every local hour any of them has. On a DST change the
    skipped hour is a zero row and the repeated hour is one row holding both.
    """
    report = services.sales_report(args, current_user())
    if wants_csv(args):
        return csv_response(report.data, SalesRowOut, _filename(f"sales_{args['granularity']}", report))
    return report


@blp.route("/locations", methods=["GET"])
@blp.doc(operationId="getLocationsReport")
@auth_required("manager", "admin")
@blp.arguments(ReportQuery, location="query")
@blp.response(200, LocationsReportOut)
@blp.alt_response(200, **CSV_ANSWER)
def locations_report(args: dict):
    """Sales per location: orders, items, revenue, average ticket, the money figures and tips, highest revenue first."""
    report = services.locations_report(args, current_user())
    if wants_csv(args):
        return csv_response(report.data, LocationRowOut, _filename("locations", report), frozenset({"location_name"}))
    return report


@blp.route("/payments", methods=["GET"])
@blp.doc(operationId="getPaymentsReport")
@auth_required("manager", "admin")
@blp.arguments(PaymentsQuery, location="query")
@blp.response(200, PaymentsReportOut, example={
    "start_date": "2026-11-21", "end_date": "2026-11-21", "location_id": 1, "timezone": "America/Mexico_City",
    "currency": "MXN",
    "totals": {"payments": 5, "amount": "1624.00", "tips": "210.00", "refunds": "58.00", "net": "1776.00"},
    "data": [
        {"method": "card", "payments": 3, "amount": "1160.00", "tips": "180.00", "refunds": "0.00", "net": "1340.00"},
        {"method": "cash", "payments": 2, "amount": "464.00", "tips": "30.00", "refunds": "58.00", "net": "436.00"},
    ]})
@blp.alt_response(200, **CSV_ANSWER)
def payments_report(args: dict):
    """The till per payment method ("corte de caja"): payments, amount, tips, refunds and net.

    One row per method that saw a payment or a refund in the range, each payment and refund on the
    business date on which it was made (not its order's), cancelled orders included: the till saw
    their money come and go. `refunds` include refunded tips; `net = amount + tips - refunds`.
    `waiter_id` filters on the order's waiter. Takes no `status`. Managers and admins only.
    """
    report = services.payments_report(args, current_user())
    if wants_csv(args):
        return csv_response(report.data, PaymentRowOut, _filename("payments", report))
    return report


# -- the CSV downloads as operations of their own ----------------------------------------------------
# `?format=csv` (or `Accept: text/csv`) on the report itself stays; these twins exist because one
# OpenAPI operation has one success body per status, and generated clients parse it as JSON. Each
# `GET /reports/<name>.csv` takes the report's query parameters (without `format`) and answers text/csv.

def _csv_twin(name: str, query: type, service, row_schema: type, text_columns: frozenset[str] = frozenset(),
              roles: tuple[str, ...] = ()) -> None:
    def view(args: dict):
        report = service(args, current_user())
        label = f"sales_{args['granularity']}" if name == "sales" else name
        return csv_response(report.data, row_schema, _filename(label, report), text_columns)

    view.__name__ = f"{name}_report_csv"
    view.__doc__ = (f"The {name} report as an RFC 4180 CSV download (text/csv)\n\n"
                    f"The same rows as `GET /reports/{name}?format=csv`, as an operation of its own so generated "
                    "clients return the text.")
    documented = blp.doc(operationId=f"get{name.capitalize()}ReportCsv")(view)
    documented = blp.alt_response(200, **CSV_ANSWER)(documented)
    documented = blp.arguments(query(exclude=("format",)), location="query")(documented)
    blp.route(f"/{name}.csv", methods=["GET"])(auth_required(*roles)(documented))


_csv_twin("products", ProductsQuery, services.products_report, ProductRowOut, frozenset({"product_name"}))
_csv_twin("waiters", ReportQuery, services.waiters_report, WaiterRowOut, frozenset({"waiter_name"}))
_csv_twin("sales", SalesQuery, services.sales_report, SalesRowOut)
_csv_twin("locations", ReportQuery, services.locations_report, LocationRowOut, frozenset({"location_name"}),
          ("manager", "admin"))
_csv_twin("payments", PaymentsQuery, services.payments_report, PaymentRowOut, roles=("manager", "admin"))
