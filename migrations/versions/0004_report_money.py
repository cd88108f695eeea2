"""report money: the rollups carry gross, discounts, tax, refunds, quantity refunded and tips

`revenue_cents` now means net sales before tax (a line's net less its refunds' net). Existing data
has no discounts, no tax, no refunds and no tips (0003_check made every line's net its line_total and
every payment's tip 0), so `gross_cents` is `revenue_cents` and every other new figure is 0. The key
indexes are recreated so that they carry the new values too (PostgreSQL INCLUDE: index-only reads).

Revision ID: 0004_report_money
Revises: 0003_check
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_report_money'
down_revision = '0003_check'
branch_labels = None
depends_on = None

MONEY = ["gross_cents", "discount_cents", "tax_cents", "refund_cents"]
OLD_P = ["quantity", "revenue_cents", "orders"]
OLD_S = ["orders", "items", "revenue_cents"]
# table: (key columns, old values, new columns)
TABLES = {
    "report_product_daily": (["business_date", "location_id", "product_id", "closed"], OLD_P,
                             [*MONEY, "quantity_refunded"]),
    "report_waiter_daily": (["business_date", "location_id", "waiter_id", "closed"], OLD_S, [*MONEY, "tip_cents"]),
    "report_sales_hourly": (["business_date", "location_id", "local_hour", "closed"], OLD_S, [*MONEY, "tip_cents"]),
    "report_product_monthly": (["month", "location_id", "product_id", "closed"], OLD_P,
                               [*MONEY, "quantity_refunded"]),
    "report_waiter_monthly": (["month", "location_id", "waiter_id", "closed"], OLD_S, [*MONEY, "tip_cents"]),
    "report_sales_monthly": (["month", "location_id", "closed"], OLD_S, [*MONEY, "tip_cents"]),
}


def _local_hour(moment, zone):
    from datetime import UTC
    from zoneinfo import ZoneInfo
    if moment.tzinfo is None:  # SQLite keeps naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def upgrade():
    # Refunds count on their own business date and local hour: the hour is kept like the order's.
    op.add_column("refunds", sa.Column("local_hour", sa.DateTime(timezone=False), nullable=True))
    bind = op.get_bind()
    made = bind.execute(sa.text("SELECT refunds.id, refunds.created_at, locations.timezone FROM refunds "
                                "JOIN orders ON orders.id = refunds.order_id "
                                "JOIN locations ON locations.id = orders.location_id")).all()
    for refund_id, created_at, zone in made:
        if isinstance(created_at, str):
            from datetime import datetime
            created_at = datetime.fromisoformat(created_at)
        bind.execute(sa.text("UPDATE refunds SET local_hour = :hour WHERE id = :id"),
                     {"hour": _local_hour(created_at, zone), "id": refund_id})
    for table, (keys, old, new) in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in new:
                batch_op.add_column(sa.Column(column, sa.BigInteger(), server_default=sa.text("0"), nullable=False))
        op.execute(sa.text(f"UPDATE {table} SET gross_cents = revenue_cents"))  # noqa: S608  (our own names)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_key")
            batch_op.create_index(f"ix_{table}_key", keys, unique=False, postgresql_include=[*old, *new])


def downgrade():
    for table, (keys, old, new) in TABLES.items():
        op.execute(sa.text(f"UPDATE {table} SET revenue_cents = gross_cents"))  # noqa: S608  (v1 revenue was gross)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_key")
            batch_op.create_index(f"ix_{table}_key", keys, unique=False, postgresql_include=old)
            for column in new:
                batch_op.drop_column(column)
    # Native DROP COLUMN (SQLite 3.35+): recreating `refunds` would cascade into refund_items.
    op.execute("ALTER TABLE refunds DROP COLUMN local_hour")
