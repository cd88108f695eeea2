"""history events carry who approved them (v1.2 manager approvals)

`order_events.approved_by_id`: the manager whose approval token let the actor make the change, or
null (no approval needed, or a manager acting directly). Adding a nullable column rewrites no row,
so the append-only trigger is not involved.

Revision ID: 0005_approved_by
Revises: 0004_report_money
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_approved_by'
down_revision = '0004_report_money'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':  # SQLite adds a referencing column only in plain SQL
        op.execute('ALTER TABLE order_events ADD COLUMN approved_by_id INTEGER REFERENCES users (id)')
        return
    op.add_column('order_events', sa.Column(
        'approved_by_id', sa.Integer(),
        sa.ForeignKey('users.id', name='fk_order_events_approved_by_id_users'), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':  # the copy-and-move drops the column and its reference
        with op.batch_alter_table('order_events', schema=None, recreate='always') as batch_op:
            batch_op.drop_column('approved_by_id')
        return
    op.drop_constraint('fk_order_events_approved_by_id_users', 'order_events', type_='foreignkey')
    op.drop_column('order_events', 'approved_by_id')
