"""the cash drawer: drawers, sessions, movements, closed business days, folios, variance tolerance

Drawer sessions keep their cash figures as running totals on the session row; payments and refunds
name the session that took them (indexed), so a session's X reads rows by index, never a day's scan.
Orders gain `folio` (gapless per location, unique per location); locations `variance_tolerance_cents`.

Revision ID: 0011_drawer
Revises: 0006_location_counters
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_drawer'
down_revision = '0010_kitchen'
branch_labels = None
depends_on = None

MONEY = ('cash_sales', 'cash_tips', 'cash_refunds', 'pay_in', 'pay_out', 'safe_drop', 'tip_out')


def _add_session_column(table: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':  # SQLite adds a referencing column only in plain SQL
        op.execute(f'ALTER TABLE {table} ADD COLUMN drawer_session_id INTEGER REFERENCES drawer_sessions (id)')
    else:
        op.add_column(table, sa.Column('drawer_session_id', sa.Integer(), sa.ForeignKey(
            'drawer_sessions.id', name=f'fk_{table}_drawer_session_id_drawer_sessions'), nullable=True))
    op.create_index(f'ix_{table}_drawer_session_id', table, ['drawer_session_id'])


def upgrade():
    op.create_table(
        'drawers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_drawers_location_id_locations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_drawers')),
    )
    op.create_index('ix_drawers_location_id', 'drawers', ['location_id'])
    op.create_table(
        'drawer_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('drawer_id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('opening_float_cents', sa.BigInteger(), nullable=False),
        *(sa.Column(f'{name}_cents', sa.BigInteger(), nullable=False) for name in MONEY),
        sa.Column('methods', sa.JSON(), nullable=False),
        sa.Column('orders_count', sa.Integer(), nullable=False),
        sa.Column('first_folio', sa.BigInteger(), nullable=True),
        sa.Column('last_folio', sa.BigInteger(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('counted_cash_cents', sa.BigInteger(), nullable=True),
        sa.Column('variance_cents', sa.BigInteger(), nullable=True),
        sa.Column('variance_reason', sa.String(length=200), nullable=True),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('z_number', sa.Integer(), nullable=True),
        sa.Column('frozen', sa.JSON(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_drawer_sessions_status')),
        sa.ForeignKeyConstraint(['drawer_id'], ['drawers.id'], name=op.f('fk_drawer_sessions_drawer_id_drawers')),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'],
                                name=op.f('fk_drawer_sessions_location_id_locations')),
        sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_drawer_sessions_opened_by_id_users')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_drawer_sessions_closed_by_id_users')),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'],
                                name=op.f('fk_drawer_sessions_approved_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_drawer_sessions')),
    )
    open_only = sa.text("status = 'open'")
    op.create_index('uq_drawer_sessions_open_drawer', 'drawer_sessions', ['drawer_id'], unique=True,
                    postgresql_where=open_only, sqlite_where=open_only)
    op.create_index('uq_drawer_sessions_open_user', 'drawer_sessions', ['opened_by_id'], unique=True,
                    postgresql_where=open_only, sqlite_where=open_only)
    op.create_index('ix_drawer_sessions_location_status', 'drawer_sessions', ['location_id', 'status'])
    op.create_index('ix_drawer_sessions_location_business_date', 'drawer_sessions', ['location_id', 'business_date'])
    op.create_table(
        'drawer_movements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("type IN ('pay_in', 'pay_out', 'safe_drop', 'tip_out')", name=op.f('ck_drawer_movements_type')),
        sa.CheckConstraint('amount_cents > 0', name=op.f('ck_drawer_movements_amount_positive')),
        sa.ForeignKeyConstraint(['session_id'], ['drawer_sessions.id'],
                                name=op.f('fk_drawer_movements_session_id_drawer_sessions')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_drawer_movements_created_by_id_users')),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'],
                                name=op.f('fk_drawer_movements_approved_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_drawer_movements')),
    )
    op.create_index('ix_drawer_movements_session_id', 'drawer_movements', ['session_id'])
    op.create_table(
        'business_days',
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('closed_by_id', sa.Integer(), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_business_days_location_id_locations')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_business_days_closed_by_id_users')),
        sa.PrimaryKeyConstraint('location_id', 'business_date', name=op.f('pk_business_days')),
    )
    _add_session_column('payments')
    _add_session_column('refunds')
    # Plain ADD COLUMN on both backends: no table is rebuilt.
    op.add_column('orders', sa.Column('folio', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
    op.create_index('uq_orders_location_folio', 'orders', ['location_id', 'folio'], unique=True)
    op.add_column('locations', sa.Column('variance_tolerance_cents', sa.BigInteger(), server_default=sa.text('0'),
                                         nullable=False))


def downgrade():
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_column('variance_tolerance_cents')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('uq_orders_location_folio')
        batch_op.drop_column('folio')
    for table in ('refunds', 'payments'):
        op.drop_index(f'ix_{table}_drawer_session_id', table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            if op.get_bind().dialect.name != 'sqlite':
                batch_op.drop_constraint(f'fk_{table}_drawer_session_id_drawer_sessions', type_='foreignkey')
            batch_op.drop_column('drawer_session_id')
    op.drop_table('business_days')
    op.drop_table('drawer_movements')
    op.drop_table('drawer_sessions')
    op.drop_table('drawers')
