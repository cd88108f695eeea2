"""Rollup upkeep: `compact` folds delta rows, `rebuild` recomputes a date range from the raw orders.

compact, per rollup: every business date that has unfolded delta rows has all its rows replaced by
one folded row per key, and what was unfolded is added to the monthly table. On PostgreSQL that is
one statement (`WITH removed AS (DELETE ... RETURNING ...), INSERT ... monthly, INSERT ... daily`),
on SQLite DELETE ... RETURNING and the inserts in one transaction; then duplicate monthly rows are
merged the same way. Rows another transaction commits meanwhile are not in the statement's snapshot:
they are neither deleted nor counted, and stay unfolded. Readers see the state before or after,
and both add up to the same figures.

rebuild, per rollup: deletes the daily rows of the range (subtracting their folded part from the
monthly rows) and inserts sums recomputed from the raw orders, unfolded; one REPEATABLE READ
transaction on PostgreSQL, so the delete and the raw read share a snapshot and a delta committed
meanwhile is neither lost nor counted twice. On SQLite the first statement is a DELETE, which takes
the database's write lock.

Both lift the request statement timeout (DB_STATEMENT_TIMEOUT_MS) for their own transaction, and
the client-side response deadline (DB_RESPONSE_TIMEOUT_MS, app/database.py) while they run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import ColumnElement, Date, delete, func, insert, or_, select, text, true, tuple_

from app.database import dialect_name, without_wait_deadline
from app.extensions import db
from app.figures.periods import month_start
from app.figures.queries import rollup_source
from app.figures.rollups import ROLLUPS, Rollup

REBUILD_CHUNK_DAYS = 31


@dataclass(frozen=True)
class Counts:
    removed: int
    written: int
    monthly: int = 0


def _batch_transaction(isolation_level: str | None = None) -> None:
    """Start the session's transaction for maintenance work (PostgreSQL: no statement timeout)."""
    if dialect_name() != "postgresql":
        return
    if db.session().in_transaction():
        raise RuntimeError("report maintenance needs a fresh transaction: commit or roll back first")
    options = {"isolation_level": isolation_level} if isolation_level else {}
    db.session.connection(execution_options=options)
    db.session.execute(text("SET LOCAL statement_timeout = 0"))


def _nonzero(sums: list) -> ColumnElement[bool]:
    return or_(*(s != 0 for s in sums))


def _add(acc: dict[tuple, list[int]], key: tuple, values: tuple[int, ...], sign: int = 1) -> None:
    total = acc.setdefault(key, [0] * len(values))
    for i, value in enumerate(values):
        total[i] += sign * value


def _rows(columns: tuple[str, ...], sums: dict[tuple, list[int]], **extra) -> list[dict]:
    return [dict(zip(columns, (*key, *values), strict=True)) | extra for key, values in sums.items() if any(values)]


def _monthly_key(rollup: Rollup, row) -> tuple:
    """(month, *monthly_keys) of a daily row given as a mapping."""
    return (month_start(row["business_date"]), *(row[k] for k in rollup.monthly_keys))


# -- compact ------------------------------------------------------------------------------------------
def _fold_daily_postgresql(rollup: Rollup, touched) -> Counts:
    d, m = rollup.table, rollup.monthly
    removed = delete(d).where(d.c.business_date.in_(touched)).returning(
        *(d.c[c] for c in (*rollup.keys, *rollup.values, "folded"))).cte("removed")

    def sums() -> list:
        return [func.sum(removed.c[v]) for v in rollup.values]

    month = func.date_trunc("month", removed.c.business_date).cast(Date)
    month_keys = [removed.c[k] for k in rollup.monthly_keys]
    to_month = insert(m).from_select(
        ["month", *rollup.monthly_keys, *rollup.values],
        select(month, *month_keys, *sums()).where(~removed.c.folded).group_by(month, *month_keys)
        .having(_nonzero(sums())),
    ).returning(m.c.id).cte("to_month")
    keys = [removed.c[k] for k in rollup.keys]
    back = insert(d).from_select(
        [*rollup.keys, *rollup.values, "folded"],
        select(*keys, *sums(), true()).group_by(*keys).having(_nonzero(sums())),
    ).returning(d.c.id).cte("back")
    counts = select(*(select(func.count()).select_from(c).scalar_subquery() for c in (removed, back, to_month)))
    return Counts(*db.session.execute(counts).one())


def _fold_daily_sqlite(rollup: Rollup, touched) -> Counts:
    d = rollup.table
    cols = (*rollup.keys, *rollup.values)
    removed = db.session.execute(delete(d).where(d.c.business_date.in_(touched)).returning(
        *(d.c[c] for c in (*cols, "folded")))).mappings().all()
    daily: dict[tuple, list[int]] = {}
    monthly: dict[tuple, list[int]] = {}
    for row in removed:
        values = tuple(row[v] for v in rollup.values)
        _add(daily, tuple(row[k] for k in rollup.keys), values)
        if not row["folded"]:
            _add(monthly, _monthly_key(rollup, row), values)
    back = _rows(cols, daily, folded=True)
    to_month = _rows(("month", *rollup.monthly_keys, *rollup.values), monthly)
    for table, rows in ((d, back), (rollup.monthly, to_month)):
        if rows:
            db.session.execute(insert(table), rows)
    return Counts(len(removed), len(back), len(to_month))


def _merge_monthly(rollup: Rollup) -> int:
    """Replace the monthly rows of every key that has several by their sum; returns rows removed."""
    m = rollup.monthly
    key_names = ("month", *rollup.monthly_keys)
    keys = [m.c[k] for k in key_names]
    dup = select(*keys).group_by(*keys).having(func.count() > 1)
    doomed = delete(m).where(tuple_(*keys).in_(dup)).returning(*(m.c[c] for c in (*key_names, *rollup.values)))
    if dialect_name() == "postgresql":
        removed = doomed.cte("removed")
        sums = [func.sum(removed.c[v]) for v in rollup.values]
        rkeys = [removed.c[k] for k in key_names]
        merged = insert(m).from_select([*key_names, *rollup.values], select(*rkeys, *sums).group_by(*rkeys)
                                       .having(_nonzero([func.sum(removed.c[v]) for v in rollup.values])))
        return db.session.execute(select(func.count()).select_from(removed).add_cte(merged.cte("merged"))).scalar_one()
    rows = db.session.execute(doomed).mappings().all()
    acc: dict[tuple, list[int]] = {}
    for row in rows:
        _add(acc, tuple(row[k] for k in key_names), tuple(row[v] for v in rollup.values))
    merged_rows = _rows((*key_names, *rollup.values), acc)
    if merged_rows:
        db.session.execute(insert(m), merged_rows)
    return len(rows)


def compact_table(rollup: Rollup, before: date | None = None) -> Counts:
    """Fold one rollup's unfolded rows (of business dates before `before`, or all) and merge its monthly rows."""
    _batch_transaction()
    d = rollup.table
    touched = select(d.c.business_date).where(~d.c.folded).distinct()
    if before:
        touched = touched.where(d.c.business_date < before)
    fold = _fold_daily_postgresql if dialect_name() == "postgresql" else _fold_daily_sqlite
    counts = fold(rollup, touched)
    _merge_monthly(rollup)
    return counts


@without_wait_deadline
def compact(before: date | None = None) -> dict[str, Counts]:
    """Compact every rollup, one transaction (and commit) per rollup."""
    counts = {}
    for rollup in ROLLUPS:
        try:
            counts[rollup.name] = compact_table(rollup, before)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return counts


# -- rebuild ------------------------------------------------------------------------------------------
def _unfold_range(rollup: Rollup, start: date, end: date) -> int:
    """Delete the range's daily rows; the folded ones leave the monthly rows too. Returns rows deleted."""
    d, m = rollup.table, rollup.monthly
    doomed = delete(d).where(d.c.business_date.between(start, end)).returning(
        *(d.c[c] for c in (*rollup.keys, *rollup.values, "folded")))
    month_cols = ["month", *rollup.monthly_keys, *rollup.values]
    if dialect_name() == "postgresql":
        removed = doomed.cte("removed")
        month = func.date_trunc("month", removed.c.business_date).cast(Date)
        mkeys = [removed.c[k] for k in rollup.monthly_keys]
        negated = insert(m).from_select(month_cols, select(
            month, *mkeys, *(-func.sum(removed.c[v]) for v in rollup.values)
        ).where(removed.c.folded).group_by(month, *mkeys)).cte("negated")
        return db.session.execute(select(func.count()).select_from(removed).add_cte(negated)).scalar_one()
    rows = db.session.execute(doomed).mappings().all()
    acc: dict[tuple, list[int]] = {}
    for row in rows:
        if row["folded"]:
            _add(acc, _monthly_key(rollup, row), tuple(row[v] for v in rollup.values), sign=-1)
    negated_rows = _rows(tuple(month_cols), acc)
    if negated_rows:
        db.session.execute(insert(m), negated_rows)
    return len(rows)


@without_wait_deadline
def rebuild(start: date, end: date) -> dict[str, Counts]:
    """Replace the rollup rows of business dates start..end by sums recomputed from the raw orders.

    Must start a fresh transaction (it sets REPEATABLE READ); the caller commits.
    """
    _batch_transaction("REPEATABLE READ")
    counts = {}
    for rollup in ROLLUPS:
        removed = _unfold_range(rollup, start, end)
        source = rollup_source(rollup.name, start, end)
        written = db.session.execute(insert(rollup.table).from_select([*rollup.keys, *rollup.values], source))
        counts[rollup.name] = Counts(removed, written.rowcount)  # type: ignore[attr-defined]  # DML returns a CursorResult; Session.execute is typed as Result
    return counts


def rebuild_in_chunks(start: date, end: date, days: int = REBUILD_CHUNK_DAYS) -> Iterator[tuple]:
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


reports_cli = AppGroup("reports", help="Maintain the report rollups.")


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
        click.echo(f"{name}: folded {c.removed} rows into {c.written}; {c.monthly} rows added to the monthly rollup")
