"""manager approvals: users.pin_hash and approval_tokens (v1.2 "Manager approvals")

`users.pin_hash`: a manager's or admin's PIN, hashed like passwords; null when none is set.
`approval_tokens`: single-use, 120-second tokens bound to one action on one order or drawer session
(and optionally an amount); only a sha256 of the token is stored. `drawer_session_id` is a plain
integer (no foreign key): the drawer sessions' table comes with the cash drawer work.

Revision ID: 0009a_floor
Revises: 0006_location_counters
"""
import sqlalchemy as sa
from alembic import op

revision = '0009a_floor'
down_revision = '0007_bigint_ids'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin_hash', sa.String(length=255), nullable=True))
    op.create_table(
        'approval_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('approver_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('drawer_session_id', sa.Integer(), nullable=True),
        sa.Column('max_amount_cents', sa.BigInteger(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name=op.f('fk_approval_tokens_approver_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_approval_tokens_requested_by_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'],
                                name=op.f('fk_approval_tokens_location_id_locations')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_approval_tokens_order_id_orders'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_approval_tokens_token_hash')),
    )
    with op.batch_alter_table('approval_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_tokens_approver_id'), ['approver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_tokens_expires_at'), ['expires_at'], unique=False)


def downgrade():
    op.drop_table('approval_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('pin_hash')
