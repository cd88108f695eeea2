"""Rollup upkeep: `rebuild` recomputes a date range from the raw orders, `compact` folds delta rows.

Both are exact while orders keep being written:
- rebuild deletes and re-inserts in one REPEATABLE READ transaction on PostgreSQL (one snapshot
  for the delete and the raw read, so a delta committed meanwhile is neither lost nor counted
  twice); on SQLite the first statement is the DELETE, which takes the database's write lock.
- compact deletes the rows it folds and inserts their sums in one statement on PostgreSQL
  (`WITH d AS (DELETE ... RETURNING ...) INSERT ... SELECT ... FROM d GROUP BY ...`), or
  DELETE ... RETURNING plus an INSERT in one transaction on SQLite. Rows inserted by other
  transactions after its snapshot are not deleted, so they survive untouched.
The caller commits (the CLI commands below); compact commits once per table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import delete, func, insert, or_, select, true

from app.database import dialect_name
from app.extensions import db
from app.reports.queries import rollup_source
from app.reports.rollups import ROLLUPS, Rollup


@dataclass(frozen=True)
class Counts:
    removed: int
    written: int


def rebuild(start: date, end: date) -> dict[str, Counts]:
    """Replace the rollup rows of business dates start..end by sums recomputed from the raw orders."""
    if dialect_name() == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
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


@reports_cli.command("rebuild")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First business date.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last business date (inclusive).")
def rebuild_command(start, end) -> None:
    """Recompute the rollups of a business-date range from the raw orders (exact, one transaction)."""
    if start > end:
        raise click.BadParameter("--start is after --end")
    try:
        counts = rebuild(start.date(), end.date())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for name, c in counts.items():
        click.echo(f"{name}: removed {c.removed} rows, wrote {c.written}")


@reports_cli.command("compact")
@click.option("--before", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only business dates before this one (default: every date).")
def compact_command(before) -> None:
    """Fold the append-only delta rows into one row per key; reports do not change."""
    counts = compact(before.date() if before else None)
    for name, c in counts.items():
        click.echo(f"{name}: folded {c.removed} rows into {c.written}")
