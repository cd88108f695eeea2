"""Rollup upkeep: `rebuild` recomputes a date range from the raw orders, `compact` folds delta rows.

Both are exact while orders keep being written:
- rebuild deletes and re-inserts in one REPEATABLE READ transaction on PostgreSQL (one snapshot
  for the delete and the raw read, so a delta committed meanwhile is neither lost nor counted
  twice); on SQLite the first statement is the DELETE, which takes the database's write lock.
- compact deletes the rows it folds and inserts their sums in one statement on PostgreSQL
  (`WITH d AS (DELETE ... RETURNING ...) INSERT ... SELECT ... FROM d GROUP BY ...`), or
  DELETE ... RETURNING plus an INSERT in one transaction on SQLite. Rows inserted by other
  transactions after its snapshot are not deleted, so they survive untouched.
The caller commits (the CLI commands below); compact commits once per table. Both lift the
request statement timeout (DB_STATEMENT_TIMEOUT_MS) for their own transaction: they are batch work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import delete, func, insert, or_, select, text, true

from app.database import dialect_name
from app.extensions import db
from app.reports.queries import rollup_source
from app.reports.rollups import ROLLUPS, Rollup


@dataclass(frozen=True)
class Counts:
    removed: int
    written: int


REBUILD_CHUNK_DAYS = 31


def _batch_transaction(isolation_level: str | None = None) -> None:
    """Start the session's transaction for maintenance work (PostgreSQL: no statement timeout)."""
    if dialect_name() != "postgresql":
        return
    if db.session().in_transaction():
        raise RuntimeError("report maintenance needs a fresh transaction: commit or roll back first")
    options = {"isolation_level": isolation_level} if isolation_level else {}
    db.session.connection(execution_options=options)
    db.session.execute(text("SET LOCAL statement_timeout = 0"))


def rebuild(start: date, end: date) -> dict[str, Counts]:
    """Replace the rollup rows of business dates start..end by sums recomputed from the raw orders.

    Must start a fresh transaction (it sets REPEATABLE READ); the caller commits.
    """
    _batch_transaction("REPEATABLE READ")
    counts = {}
    for rollup in ROLLUPS:
        t = rollup.table
        removed = db.session.execute(delete(t).where(t.c.business_date.between(start, end))).rowcount
        source = rollup_source(rollup.name, start, end)
        written = db.session.execute(insert(t).from_select([*rollup.keys, *rollup.values], source)).rowcount
        counts[rollup.name] = Counts(removed, written)
    return counts


def compact_table(rollup: Rollup, before: date | None = None) -> Counts:
    """Fold the rows of one rollup (business dates before `before`, or all) into one row per key."""
    t = rollup.table
    where = t.c.business_date < before if before else true()
    _batch_transaction()
    if dialect_name() == "postgresql":
        return _compact_postgresql(rollup, where)
    return _compact_sqlite(rollup, where)


def _compact_postgresql(rollup: Rollup, where) -> Counts:
    t = rollup.table
    removed = delete(t).where(where).returning(*(t.c[c] for c in (*rollup.keys, *rollup.values))).cte("removed")
    sums = [func.sum(removed.c[v]) for v in rollup.values]
    folded = (
        select(*(removed.c[k] for k in rollup.keys), *sums)
        .group_by(*(removed.c[k] for k in rollup.keys))
        .having(or_(*(s != 0 for s in sums)))
    )
    written = insert(t).from_select([*rollup.keys, *rollup.values], folded).returning(t.c.id).cte("written")
    stmt = select(
        select(func.count()).select_from(removed).scalar_subquery(),
        select(func.count()).select_from(written).scalar_subquery(),
    )
    n_removed, n_written = db.session.execute(stmt).one()
    return Counts(removed=n_removed, written=n_written)


def _compact_sqlite(rollup: Rollup, where) -> Counts:
    t = rollup.table
    cols = (*rollup.keys, *rollup.values)
    removed = db.session.execute(delete(t).where(where).returning(*(t.c[c] for c in cols))).all()
    sums: dict[tuple, list[int]] = {}
    width = len(rollup.keys)
    for row in removed:
        total = sums.setdefault(tuple(row[:width]), [0] * len(rollup.values))
        for i, value in enumerate(row[width:]):
            total[i] += value
    rows = [dict(zip(cols, (*key, *values), strict=True)) for key, values in sums.items() if any(values)]
    if rows:
        db.session.execute(insert(t), rows)
    return Counts(removed=len(removed), written=len(rows))


def compact(before: date | None = None) -> dict[str, Counts]:
    """Compact every rollup table, one transaction (and commit) per table."""
    counts = {}
    for rollup in ROLLUPS:
        try:
            counts[rollup.name] = compact_table(rollup, before)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return counts


reports_cli = AppGroup("reports", help="Maintain the report rollups.")


def rebuild_in_chunks(start: date, end: date, days: int = REBUILD_CHUNK_DAYS):
    """rebuild() over start..end, one transaction per `days` business dates; yields each chunk's counts."""
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(end, chunk_start + timedelta(days=days - 1))
        try:
            counts = rebuild(chunk_start, chunk_end)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        yield chunk_start, chunk_end, counts
        chunk_start = chunk_end + timedelta(days=1)


@reports_cli.command("rebuild")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First business date.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last business date (inclusive).")
def rebuild_command(start, end) -> None:
    """Recompute the rollups of a business-date range from the raw orders (exact; a transaction per 31 days)."""
    if start > end:
        raise click.BadParameter("--start is after --end")
    db.session.rollback()  # a command owns its transactions: start from a clean session
    for first, last, counts in rebuild_in_chunks(start.date(), end.date()):
        summary = ", ".join(f"{name} {c.removed} -> {c.written} rows" for name, c in counts.items())
        click.echo(f"{first}..{last}: {summary}")


@reports_cli.command("compact")
@click.option("--before", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only business dates before this one (default: every date).")
def compact_command(before) -> None:
    """Fold the append-only delta rows into one row per key; reports do not change."""
    db.session.rollback()  # a command owns its transactions: start from a clean session
    counts = compact(before.date() if before else None)
    for name, c in counts.items():
        click.echo(f"{name}: folded {c.removed} rows into {c.written}")
