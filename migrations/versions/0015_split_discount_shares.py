"""order_discounts.split_share_cents: what a line percentage discount takes of a part of a line a split
divided (its exact share of what it took of the whole line), so the parts' discounts add up to the
original's; null for every other discount (they take round(gross x percent / 100) as before)

Revision ID: 0015_split_discount_shares
Revises: 0014_till_rollups
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_split_discount_shares'
down_revision = '0014_till_rollups'
branch_labels = None
depends_on = None

CHECK = 'split_share_cents IS NULL OR (split_share_cents >= 0 AND percent_thousandths IS NOT NULL)'


def upgrade():
    with op.batch_alter_table('order_discounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('split_share_cents', sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_order_discounts_split_share'), CHECK)


def downgrade():
    with op.batch_alter_table('order_discounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_discounts_split_share'), type_='check')
        batch_op.drop_column('split_share_cents')
