"""the full check: modifiers, taxes, discounts, payments, refunds and order history

Existing data is migrated to consistent v1 values: every line's net is its line_total (no
discount, no tax), every order's subtotal is its total, and every closed order with a
payment_method gets one payment of its total with that method, made by its waiter at its
closed_at on its business date, so its paid_total is its total and `payment_method` answers the
same as in v1. Cancelled orders (even ones cancelled after closing) get no payment: v1 never
recorded what the till did with them. No history events are invented for existing orders.

Revision ID: 0003_check
Revises: 0002_locations
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_check'
down_revision = '0002_locations'
branch_labels = None
depends_on = None

ZERO = sa.text('0')

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'order_events is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$$
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
FOR EACH ROW EXECUTE FUNCTION order_events_append_only()
"""


def upgrade():
    # Plain ADD COLUMN (no batch "move and copy"): on SQLite, recreating `orders` would drop the
    # old table, and with foreign keys on that cascades into order_items.
    op.add_column('products', sa.Column('tax_rate_thousandths', sa.Integer(), nullable=True))
    for name in ('subtotal_cents', 'discount_total_cents', 'tax_total_cents', 'tip_total_cents',
                 'paid_total_cents', 'refund_total_cents'):
        op.add_column('orders', sa.Column(name, sa.BigInteger(), server_default=ZERO, nullable=False))
    # The order's tax snapshot (tax_rate_thousandths, prices_include_tax) came with 0002_locations.
    op.add_column('order_items', sa.Column('modifiers', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    op.add_column('order_items', sa.Column('tax_rate_thousandths', sa.Integer(), server_default=ZERO, nullable=False))
    for name in ('discount_cents', 'tax_cents', 'net_cents'):
        op.add_column('order_items', sa.Column(name, sa.BigInteger(), server_default=ZERO, nullable=False))

    op.create_table('order_discounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('percent_thousandths', sa.Integer(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('applied_cents', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(percent_thousandths IS NULL) <> (amount_cents IS NULL)', name=op.f('ck_order_discounts_percent_xor_amount')),
    sa.CheckConstraint('percent_thousandths IS NULL OR (percent_thousandths > 0 AND percent_thousandths <= 100000)', name=op.f('ck_order_discounts_percent')),
    sa.CheckConstraint('amount_cents IS NULL OR amount_cents > 0', name=op.f('ck_order_discounts_amount_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_discounts_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['order_items.id'], name=op.f('fk_order_discounts_item_id_order_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_order_discounts_created_by_id_users')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'], name=op.f('fk_order_discounts_removed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_discounts'))
    )
    with op.batch_alter_table('order_discounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_discounts_order_id'), ['order_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('tip_cents', sa.BigInteger(), nullable=False),
    sa.Column('tendered_cents', sa.BigInteger(), nullable=True),
    sa.Column('change_cents', sa.BigInteger(), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("method IN ('cash', 'card', 'other')", name=op.f('ck_payments_method')),
    sa.CheckConstraint('amount_cents >= 0 AND tip_cents >= 0', name=op.f('ck_payments_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payments_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_business_date'), ['business_date'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('tax_cents', sa.BigInteger(), nullable=False),
    sa.Column('tip_cents', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("method IN ('cash', 'card', 'other')", name=op.f('ck_refunds_method')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_refunds_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refunds_business_date'), ['business_date'], unique=False)

    op.create_table('refund_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('tax_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity >= 1', name=op.f('ck_refund_items_quantity_positive')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_refund_items_refund_id_refunds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['order_items.id'], name=op.f('fk_refund_items_item_id_order_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_items'))
    )
    with op.batch_alter_table('refund_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_items_refund_id'), ['refund_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refund_items_item_id'), ['item_id'], unique=False)

    op.create_table('order_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_events_order_id_orders')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_order_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_events'))
    )
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.create_index('ix_order_events_order_id_id', ['order_id', 'id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)

    # Existing data: consistent v1 values (see the module docstring).
    op.execute("UPDATE order_items SET net_cents = unit_price_cents * quantity WHERE NOT voided")
    op.execute("UPDATE orders SET subtotal_cents = total_cents")
    op.execute(
        "INSERT INTO payments (order_id, method, amount_cents, tip_cents, business_date, created_by_id, created_at) "
        "SELECT id, payment_method, total_cents, 0, business_date, waiter_id, COALESCE(closed_at, updated_at) "
        "FROM orders WHERE status = 'closed' AND payment_method IS NOT NULL"
    )
    op.execute(
        "UPDATE orders SET paid_total_cents = total_cents WHERE status = 'closed' AND payment_method IS NOT NULL"
    )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS order_events_append_only ON order_events")
        op.execute("DROP FUNCTION IF EXISTS order_events_append_only()")
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index('ix_order_events_order_id_id')
    op.drop_table('order_events')
    with op.batch_alter_table('refund_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refund_items_item_id'))
        batch_op.drop_index(batch_op.f('ix_refund_items_refund_id'))
    op.drop_table('refund_items')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_business_date'))
        batch_op.drop_index(batch_op.f('ix_refunds_order_id'))
    op.drop_table('refunds')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_business_date'))
        batch_op.drop_index(batch_op.f('ix_payments_order_id'))
    op.drop_table('payments')
    with op.batch_alter_table('order_discounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_discounts_order_id'))
    op.drop_table('order_discounts')
    # Plain DROP COLUMN (SQLite >= 3.35), not batch "move and copy": see upgrade().
    for name in ('net_cents', 'tax_cents', 'discount_cents', 'tax_rate_thousandths', 'modifiers'):
        op.drop_column('order_items', name)
    for name in ('refund_total_cents', 'paid_total_cents',
                 'tip_total_cents', 'tax_total_cents', 'discount_total_cents', 'subtotal_cents'):
        op.drop_column('orders', name)
    op.drop_column('products', 'tax_rate_thousandths')
