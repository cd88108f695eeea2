"""kitchen: stations and their routes, kitchen tickets, and each line's course and kitchen status

Revision ID: 0010_kitchen
Revises: 0006_location_counters
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_kitchen'
down_revision = '0009b_floor'
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'kitchen_stations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('categories', sa.JSON(), nullable=False),
        sa.Column('product_ids', sa.JSON(), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('alert_minutes', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('queue_version', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
        sa.CheckConstraint('alert_minutes BETWEEN 1 AND 240', name=op.f('ck_kitchen_stations_alert_minutes_range')),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_kitchen_stations_location_id_locations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kitchen_stations')),
    )
    op.create_index(op.f('ix_kitchen_stations_location_id'), 'kitchen_stations', ['location_id'])
    op.create_index('uq_kitchen_stations_default', 'kitchen_stations', ['location_id'], unique=True,
                    postgresql_where=sa.text('is_default'), sqlite_where=sa.text('is_default'))
    op.create_table(
        'kitchen_routes',
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('value', sa.String(length=120), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_kitchen_routes_location_id_locations')),
        sa.ForeignKeyConstraint(['station_id'], ['kitchen_stations.id'], ondelete='CASCADE',
                                name=op.f('fk_kitchen_routes_station_id_kitchen_stations')),
        sa.PrimaryKeyConstraint('location_id', 'kind', 'value', name=op.f('pk_kitchen_routes')),
    )
    op.create_index(op.f('ix_kitchen_routes_station_id'), 'kitchen_routes', ['station_id'])
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('course', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch_op.add_column(sa.Column('kitchen_status', sa.String(length=8), server_default=sa.text("'sent'"),
                                      nullable=False))
        batch_op.add_column(sa.Column('station_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_order_items_station_id_kitchen_stations'), 'kitchen_stations',
                                    ['station_id'], ['id'])
    op.execute("UPDATE order_items SET kitchen_status = 'voided' WHERE voided")
    op.create_table(
        'kitchen_tickets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('table_label', sa.String(length=32), nullable=True),
        sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
        sa.Column('ready_at', UTC_TIMESTAMP, nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('new', 'void')", name=op.f('ck_kitchen_tickets_kind')),
        sa.CheckConstraint("status IN ('open', 'ready')", name=op.f('ck_kitchen_tickets_status')),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_kitchen_tickets_location_id_locations')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE',
                                name=op.f('fk_kitchen_tickets_order_id_orders')),
        sa.ForeignKeyConstraint(['station_id'], ['kitchen_stations.id'],
                                name=op.f('fk_kitchen_tickets_station_id_kitchen_stations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kitchen_tickets')),
    )
    op.create_index(op.f('ix_kitchen_tickets_order_id'), 'kitchen_tickets', ['order_id'])
    op.create_index('ix_kitchen_tickets_station_status_created', 'kitchen_tickets', ['station_id', 'status', 'created_at'])
    op.create_index('uq_kitchen_tickets_number', 'kitchen_tickets', ['location_id', 'business_date', 'number'],
                    unique=True)
    op.create_index('ix_kitchen_tickets_location_created', 'kitchen_tickets', ['location_id', 'created_at'])
    op.create_table(
        'kitchen_ticket_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('product_name', sa.String(length=120), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('modifiers', sa.JSON(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('seat', sa.Integer(), nullable=True),
        sa.Column('course', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['order_items.id'], ondelete='CASCADE',
                                name=op.f('fk_kitchen_ticket_lines_item_id_order_items')),
        sa.ForeignKeyConstraint(['ticket_id'], ['kitchen_tickets.id'], ondelete='CASCADE',
                                name=op.f('fk_kitchen_ticket_lines_ticket_id_kitchen_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kitchen_ticket_lines')),
    )
    op.create_index(op.f('ix_kitchen_ticket_lines_item_id'), 'kitchen_ticket_lines', ['item_id'])
    op.create_index(op.f('ix_kitchen_ticket_lines_ticket_id'), 'kitchen_ticket_lines', ['ticket_id'])


def downgrade():
    op.drop_table('kitchen_ticket_lines')
    op.drop_table('kitchen_tickets')
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_order_items_station_id_kitchen_stations'), type_='foreignkey')
        batch_op.drop_column('station_id')
        batch_op.drop_column('kitchen_status')
        batch_op.drop_column('course')
    op.drop_table('kitchen_routes')
    op.drop_table('kitchen_stations')
