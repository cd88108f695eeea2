"""64-bit references in the v1.2 tables: columns that point at orders and order lines are BIGINT like the
ids they point at (0007 made those 64-bit; the v1.2 migrations were written beside it)

Revision ID: 0013_bigint_v12_refs
Revises: 0012_feed
"""
from alembic import op

revision = '0013_bigint_v12_refs'
down_revision = '0012_feed'
branch_labels = None
depends_on = None

COLUMNS = [
    ('approval_tokens', 'order_id'),
    ('kitchen_ticket_lines', 'item_id'),
    ('kitchen_tickets', 'order_id'),
    ('orders', 'split_from_id'),
    ('orders', 'merged_into_id'),
]


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite's INTEGER is 64-bit already
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE BIGINT')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE INTEGER')
