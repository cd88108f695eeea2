"""Insert rows into several append-only tables at once: one statement on PostgreSQL.

The rollups' delta rows and the order's history event are written on every order change, so their
cost is one round trip: each table's rows travel as one typed array per column, unnested by one
`INSERT ... SELECT * FROM unnest(...)` per table, all joined in one `WITH` statement. On SQLite, one
executemany INSERT per table. Plumbing: it knows tables and rows, nothing of what they mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql

from app.extensions import db


def insert_all(parts: Sequence[tuple[Table, list[dict[str, Any]]]]) -> None:
    """Insert every (table, rows) of `parts` (rows of one table share their keys) in the session's
    transaction; the statement count never grows with the number of rows."""
    parts = [(table, rows) for table, rows in parts if rows]
    if not parts:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        for table, rows in parts:
            db.session.execute(insert(table), rows)
        return
    shapes = tuple((table, f"t{n}", tuple(rows[0])) for n, (table, rows) in enumerate(parts))
    params: dict[str, list] = {}
    for (table, prefix, cols), (_, rows) in zip(shapes, parts, strict=True):
        params |= _arrays(table, prefix, cols, rows)
    # Straight to the driver (still through the session's connection and transaction): this runs on
    # every order change, and SQLAlchemy's statement handling was a third of its cost.
    db.session.connection().exec_driver_sql(_one_statement(shapes), params)


@cache
def _one_statement(shapes: tuple[tuple[Table, str, tuple[str, ...]], ...]) -> str:
    """WITH ... one `INSERT ... SELECT * FROM unnest(arrays)` per table (PostgreSQL, psycopg2
    parameter style), built from the table metadata once per combination of tables and columns."""
    *firsts, last = (_unnest_insert_sql(*shape) for shape in shapes)
    with_clause = ", ".join(f"part_{n} AS ({sql})" for n, sql in enumerate(firsts))
    return f"WITH {with_clause} {last}" if firsts else last


def _unnest_insert_sql(table: Table, prefix: str, cols: tuple[str, ...]) -> str:
    """INSERT INTO <table> (cols) SELECT * FROM unnest(:col1, :col2, ...), one typed array per column."""
    # Identifiers and types come from our own table metadata; every value is a bound parameter.
    return f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT * FROM {unnest_sql(table, prefix, cols)}"  # noqa: S608


def unnest_sql(table: Table, prefix: str, cols: tuple[str, ...]) -> str:
    """`unnest(CAST(%(<prefix>_<col>)s AS <type>[]), ...)`: the rows of `column_arrays(table, prefix, ...)`."""
    dialect = postgresql.dialect()
    arrays = ", ".join(f"CAST(%({prefix}_{c})s AS {table.c[c].type.compile(dialect=dialect)}[])" for c in cols)
    return f"unnest({arrays})"


def column_arrays(table: Table, prefix: str, cols: tuple[str, ...], rows: list[dict]) -> dict[str, list]:
    """The parameters of `unnest_sql`: one array per column (PostgreSQL)."""
    return _arrays(table, prefix, cols, rows)


def _arrays(table: Table, prefix: str, cols: tuple[str, ...], rows: list[dict]) -> dict[str, list]:
    """One array per column, each value as the column's type binds it (JSON serialized, UTC timestamps)."""
    dialect = db.session.get_bind().dialect
    arrays = {}
    for col in cols:
        process = _bind_processor(table.c[col].type, dialect)
        values = [row[col] for row in rows]
        arrays[f"{prefix}_{col}"] = [process(v) for v in values] if process else values
    return arrays


@cache
def _bind_processor(type_, dialect):
    return type_.bind_processor(dialect)
