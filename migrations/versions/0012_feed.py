"""change feed and webhooks: feed_events (append-only, gapless position per location), webhooks, deliveries

Revision ID: 0012_feed
Revises: 0006_location_counters
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_feed'
down_revision = '0011_drawer'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION feed_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'feed_events is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$$
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER feed_events_append_only BEFORE UPDATE OR DELETE ON feed_events
FOR EACH ROW EXECUTE FUNCTION feed_events_append_only()
"""
# Long polls and the webhook worker LISTEN on comanda_feed; one notification per inserting statement
# (delivered at commit, duplicates within a transaction folded by PostgreSQL).
NOTIFY_FUNCTION = """
CREATE FUNCTION feed_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('comanda_feed', '');
    RETURN NULL;
END
$$
"""
NOTIFY_TRIGGER = """
CREATE TRIGGER feed_events_notify AFTER INSERT ON feed_events
FOR EACH STATEMENT EXECUTE FUNCTION feed_events_notify()
"""


def upgrade():
    op.create_table(
        'feed_events',
        sa.Column('id', BIGINT, nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('position', BIGINT, nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('subject_type', sa.String(length=32), nullable=False),
        sa.Column('subject_id', BIGINT, nullable=False),
        sa.Column('subject_version', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_feed_events_location_id_locations')),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_feed_events_actor_id_users')),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_feed_events_approved_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_events')),
        sa.UniqueConstraint('location_id', 'position', name='uq_feed_events_location_id_position'),
    )
    op.create_table(
        'webhooks',
        sa.Column('id', BIGINT, nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('types', sa.JSON(), nullable=False),
        sa.Column('location_ids', sa.JSON(), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('previous_secret', sa.String(length=64), nullable=True),
        sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cursor', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks')),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', BIGINT, nullable=False),
        sa.Column('webhook_id', BIGINT, nullable=False),
        sa.Column('event_id', BIGINT, nullable=True),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('subject_key', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('manual', sa.Boolean(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['feed_events.id'], name=op.f('fk_webhook_deliveries_event_id_feed_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('webhook_id', 'event_id', name='uq_webhook_deliveries_webhook_id_event_id'),
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['status', 'next_attempt_at'])
    op.create_index('ix_webhook_deliveries_subject', 'webhook_deliveries', ['webhook_id', 'subject_key', 'id'])
    if op.get_bind().dialect.name == 'postgresql':
        for sql in (APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGER, NOTIFY_FUNCTION, NOTIFY_TRIGGER):
            op.execute(sql)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS feed_events_notify ON feed_events")
        op.execute("DROP FUNCTION IF EXISTS feed_events_notify()")
        op.execute("DROP TRIGGER IF EXISTS feed_events_append_only ON feed_events")
        op.execute("DROP FUNCTION IF EXISTS feed_events_append_only()")
    op.drop_index('ix_webhook_deliveries_subject', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
    op.drop_table('feed_events')
