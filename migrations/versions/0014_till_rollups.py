"""The till rollups behind GET /reports/payments: per business date, location and method (and the same
with the order's waiter), with their monthly folds; backfilled from the existing payments and refunds

Every payment and refund counts on its own business date (stored on it when it was made), under its
method, at its order's location (and waiter), whatever the order's status. The backfill writes unfolded
daily rows (one per key for payments, one for refunds; readers sum), so the monthly tables start empty
and `flask reports compact` folds them like any delta rows.

Revision ID: 0014_till_rollups
Revises: 0013_bigint_v12_refs
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_till_rollups'
down_revision = '0013_bigint_v12_refs'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
VALUES = ['payments', 'amount_cents', 'tip_cents', 'refunds', 'refund_cents']
NOT_FOLDED = sa.text('NOT folded')


def _values():
    return [sa.Column(name, sa.BigInteger(), server_default=sa.text('0'), nullable=False) for name in VALUES]


def _table(name, keys, folded):
    columns = [sa.Column('id', ID, nullable=False), *keys, *_values()]
    if folded:
        columns.append(sa.Column('folded', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_table(name, *columns, sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')))


def _date(name):
    return sa.Column(name, sa.Date(), nullable=False)


def _int(name):
    return sa.Column(name, sa.Integer(), nullable=False)


def _method():
    return sa.Column('method', sa.String(length=16), nullable=False)


# The backfill: the raw payments and refunds, summed per key (the keys' columns, then VALUES).
BACKFILL = """
INSERT INTO {table} ({keys}, payments, amount_cents, tip_cents, refunds, refund_cents)
SELECT {made_keys}, COUNT(*), SUM(p.amount_cents), SUM(p.tip_cents), 0, 0
FROM payments p JOIN orders o ON o.id = p.order_id
GROUP BY {made_keys}
UNION ALL
SELECT {refund_keys}, 0, 0, 0, COUNT(*), SUM(r.amount_cents + r.tip_cents)
FROM refunds r JOIN orders o ON o.id = r.order_id
GROUP BY {refund_keys}
"""


def _backfill(table, waiter):
    keys = ['business_date', 'location_id', *(['waiter_id'] if waiter else []), 'method']

    def made(alias):
        return ', '.join({'business_date': f'{alias}.business_date', 'method': f'{alias}.method'}.get(k, f'o.{k}')
                         for k in keys)

    op.execute(BACKFILL.format(table=table, keys=', '.join(keys), made_keys=made('p'), refund_keys=made('r')))


def upgrade():
    _table('report_payment_daily', [_date('business_date'), _int('location_id'), _method()], folded=True)
    with op.batch_alter_table('report_payment_daily', schema=None) as batch_op:
        batch_op.create_index('ix_report_payment_daily_key', ['business_date', 'location_id', 'method'],
                              unique=False, postgresql_include=VALUES)
        batch_op.create_index('ix_report_payment_daily_unfolded', ['business_date'], unique=False,
                              postgresql_where=NOT_FOLDED, sqlite_where=NOT_FOLDED)
    _table('report_payment_waiter_daily',
           [_date('business_date'), _int('location_id'), _int('waiter_id'), _method()], folded=True)
    with op.batch_alter_table('report_payment_waiter_daily', schema=None) as batch_op:
        batch_op.create_index('ix_report_payment_waiter_daily_key',
                              ['waiter_id', 'business_date', 'location_id', 'method'],
                              unique=False, postgresql_include=VALUES)
        batch_op.create_index('ix_report_payment_waiter_daily_unfolded', ['business_date'], unique=False,
                              postgresql_where=NOT_FOLDED, sqlite_where=NOT_FOLDED)
    _table('report_payment_monthly', [_date('month'), _int('location_id'), _method()], folded=False)
    with op.batch_alter_table('report_payment_monthly', schema=None) as batch_op:
        batch_op.create_index('ix_report_payment_monthly_key', ['month', 'location_id', 'method'],
                              unique=False, postgresql_include=VALUES)
    _table('report_payment_waiter_monthly',
           [_date('month'), _int('location_id'), _int('waiter_id'), _method()], folded=False)
    with op.batch_alter_table('report_payment_waiter_monthly', schema=None) as batch_op:
        batch_op.create_index('ix_report_payment_waiter_monthly_key',
                              ['waiter_id', 'month', 'location_id', 'method'],
                              unique=False, postgresql_include=VALUES)
    _backfill('report_payment_daily', waiter=False)
    _backfill('report_payment_waiter_daily', waiter=True)


def downgrade():
    for table in ('report_payment_waiter_monthly', 'report_payment_monthly',
                  'report_payment_waiter_daily', 'report_payment_daily'):
        op.drop_table(table)
