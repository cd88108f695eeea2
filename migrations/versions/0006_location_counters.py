"""location counters: gapless numbers per location (folios, z numbers, kitchen tickets, feed positions)

Revision ID: 0006_location_counters
Revises: 0005_approved_by
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_location_counters'
down_revision = '0005_approved_by'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'location_counters',
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('value', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_location_counters_location_id_locations')),
        sa.PrimaryKeyConstraint('location_id', 'name', 'day', name=op.f('pk_location_counters')),
    )


def downgrade():
    op.drop_table('location_counters')
