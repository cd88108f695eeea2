"""bigint ids: every id that grows with orders, and every column that points at one, is 64-bit on PostgreSQL

Revision ID: 0007_bigint_ids
Revises: 0006_location_counters

A busy chain makes millions of lines, events and payments a year; INTEGER ids stop at 2,147,483,647.
The columns become BIGINT and their sequences `AS bigint` (a sequence made for a SERIAL column is an
integer sequence and would stop there too). SQLite's INTEGER is already 64-bit: nothing to do there.
ALTER ... TYPE rewrites each table under an exclusive lock: run it in a quiet hour.
"""
from alembic import op

revision = '0007_bigint_ids'
down_revision = '0006_location_counters'
branch_labels = None
depends_on = None

# table -> its columns that hold an id growing with orders (its own id first when it has a sequence)
COLUMNS = {
    'orders': ('id',),
    'order_items': ('id', 'order_id'),
    'order_discounts': ('id', 'order_id', 'item_id'),
    'payments': ('id', 'order_id'),
    'refunds': ('id', 'order_id'),
    'refund_items': ('id', 'refund_id', 'item_id'),
    'order_events': ('id', 'order_id'),  # its id has been BIGINT since 0001
    'idempotency_keys': ('id',),
}


def _change(type_: str, columns_of: dict[str, tuple[str, ...]]) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, columns in columns_of.items():
        changes = ', '.join(f'ALTER COLUMN {column} TYPE {type_}' for column in columns)
        op.execute(f'ALTER TABLE {table} {changes}')
        if 'id' in columns:
            op.execute(f"DO $$ BEGIN EXECUTE format('ALTER SEQUENCE %s AS {type_}', "
                       f"pg_get_serial_sequence('{table}', 'id')); END $$")


def upgrade():
    _change('bigint', COLUMNS)


def downgrade():
    # order_events.id stays BIGINT (0001 made it so); the rest go back to INTEGER.
    _change('integer', COLUMNS | {'order_events': ('order_id',)})
