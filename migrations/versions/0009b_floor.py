"""tables, seats, split and merged checks (v1.2 "Tables, seats, transfer, merge and split checks")

`tables` per location (name unique per location after trimming, case-insensitively: `name_key`);
orders gain `table_id`, `guest_count`, `split_from_id`, `merged_into_id` and the status `merged`;
lines gain `seat`. Whether a table is occupied is derived from its open orders, never stored.
SQLite changes a CHECK only by rebuilding the table (migrations/env.py turns foreign keys off for it).

Revision ID: 0009b_floor
Revises: 0009a_floor
"""
import sqlalchemy as sa
from alembic import op

revision = '0009b_floor'
down_revision = '0009a_floor'
branch_labels = None
depends_on = None

OLD_STATUS = "status IN ('open', 'closed', 'cancelled')"
NEW_STATUS = "status IN ('open', 'closed', 'cancelled', 'merged')"


def upgrade():
    op.create_table(
        'tables',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('name_key', sa.String(length=80), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('area', sa.String(length=40), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('seats BETWEEN 1 AND 50', name=op.f('ck_tables_seats_range')),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_tables_location_id_locations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tables')),
        sa.UniqueConstraint('location_id', 'name_key', name='uq_tables_location_id_name_key'),
    )
    with op.batch_alter_table('orders', schema=None, recreate='auto') as batch_op:
        batch_op.add_column(sa.Column('table_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('guest_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('split_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_orders_table_id_tables'), 'tables', ['table_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_orders_split_from_id_orders'), 'orders', ['split_from_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_orders_merged_into_id_orders'), 'orders', ['merged_into_id'],
                                    ['id'])
        batch_op.create_index(batch_op.f('ix_orders_table_id'), ['table_id'], unique=False)
        batch_op.drop_constraint(op.f('ck_orders_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_orders_status'), NEW_STATUS)
        batch_op.create_check_constraint(op.f('ck_orders_guest_count_range'), 'guest_count BETWEEN 1 AND 99')
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seat', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_order_items_seat_range'), 'seat BETWEEN 0 AND 99')


def downgrade():
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_items_seat_range'), type_='check')
        batch_op.drop_column('seat')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orders_guest_count_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_orders_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_orders_status'), OLD_STATUS)
        batch_op.drop_index(batch_op.f('ix_orders_table_id'))
        batch_op.drop_constraint(batch_op.f('fk_orders_merged_into_id_orders'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_orders_split_from_id_orders'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_orders_table_id_tables'), type_='foreignkey')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('split_from_id')
        batch_op.drop_column('guest_count')
        batch_op.drop_column('table_id')
    op.drop_table('tables')
