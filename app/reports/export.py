"""Content negotiation and the streamed CSV answer of a report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Response, request, stream_with_context
from marshmallow import Schema

from app.reports.schemas import present, row_plan

CSV_MIMETYPE = "text/csv"
ROWS_PER_CHUNK = 500
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): such text
# cells get a leading apostrophe, as OWASP recommends. Numbers and money never start with them.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(args: dict) -> bool:
    """`?format=` decides; without it, `Accept: text/csv` preferred over JSON means CSV."""
    if args.get("format"):
        return args["format"] == "csv"
    accept = request.accept_mimetypes
    return accept.quality(CSV_MIMETYPE) > accept.quality("application/json") and CSV_MIMETYPE in accept.values()


def _safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict], row_schema: type[Schema], text_columns: frozenset[str]) -> Iterator[str]:
    """The header row, then every row as `row_schema` dumps it, RFC 4180 (CRLF, minimal quoting)."""
    columns = [name for name, _, _ in row_plan(row_schema)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the "excel" dialect is RFC 4180
    writer.writerow(columns)
    for n, dumped in enumerate(present(row_schema, rows), start=1):
        writer.writerow([_safe(dumped[c]) if c in text_columns else dumped[c] for c in columns])
        if n % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(rows: Iterable[dict], row_schema: type[Schema], filename: str,
                 text_columns: frozenset[str] = frozenset()) -> Response:
    """A streamed text/csv attachment."""
    response = Response(stream_with_context(csv_lines(rows, row_schema, text_columns)), mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
