"""locations: a chain of restaurants

Creates `locations` with one default location made from BUSINESS_TIMEZONE and
BUSINESS_DAY_STARTS_AT, `user_locations` (every waiter and manager belongs to it; admins belong to
every location and have no rows), `orders.location_id` (every order belongs to it) with the order's
tax snapshot (0 %, prices without tax: the v1 figures), and `location_id` as a key of every report
rollup (every row belongs to it). Stored business dates and rollup figures are not touched, so every
order, report and total reads the same afterwards.

Downgrade drops the locations again; rollup rows of several locations simply add up in the v1 keys.

Revision ID: 0002_locations
Revises: 0001
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0002_locations"
down_revision = "0001"
branch_labels = None
depends_on = None

DEFAULT_NAME = "Main"
VALUES_P = ["quantity", "revenue_cents", "orders"]
VALUES_S = ["orders", "items", "revenue_cents"]
# table -> (key columns before location_id was added, values); location_id goes right after the date.
ROLLUP_KEYS = {
    "report_product_daily": (["business_date", "product_id", "closed"], VALUES_P),
    "report_waiter_daily": (["business_date", "waiter_id", "closed"], VALUES_S),
    "report_sales_hourly": (["business_date", "local_hour", "closed"], VALUES_S),
    "report_product_monthly": (["month", "product_id", "closed"], VALUES_P),
    "report_waiter_monthly": (["month", "waiter_id", "closed"], VALUES_S),
    "report_sales_monthly": (["month", "closed"], VALUES_S),
}


def _now(bind):
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now  # UTCDateTime's storage


def upgrade():
    bind = op.get_bind()
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("day_starts_at", sa.String(length=5), nullable=False),
        sa.Column("tax_rate_thousandths", sa.Integer(), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("tax_rate_thousandths BETWEEN 0 AND 100000", name=op.f("ck_locations_tax_rate_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("name_key", name=op.f("uq_locations_name_key")),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index("uq_locations_default", ["is_default"], unique=True,
                              postgresql_where=sa.text("is_default"), sqlite_where=sa.text("is_default"))

    locations = sa.table(
        "locations", *(sa.column(c) for c in ("name", "name_key", "timezone", "day_starts_at", "tax_rate_thousandths",
                                              "prices_include_tax", "active", "is_default", "created_at",
                                              "updated_at")))
    now = _now(bind)
    bind.execute(locations.insert().values(
        name=DEFAULT_NAME, name_key=DEFAULT_NAME.casefold(), timezone=current_app.config["BUSINESS_TIMEZONE"],
        day_starts_at=current_app.config["BUSINESS_DAY_STARTS_AT"], tax_rate_thousandths=0,
        prices_include_tax=False, active=True, is_default=True, created_at=now, updated_at=now))
    default_id = bind.execute(sa.text("SELECT id FROM locations WHERE is_default")).scalar_one()

    op.create_table(
        "user_locations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"], name=op.f("fk_user_locations_location_id_locations")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_locations_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "location_id", name=op.f("pk_user_locations")),
    )
    with op.batch_alter_table("user_locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_locations_location_id"), ["location_id"], unique=False)
    bind.execute(sa.text("INSERT INTO user_locations (user_id, location_id) "
                         "SELECT id, :location FROM users WHERE role <> 'admin'"), {"location": default_id})

    # The default as a server default fills every existing row in the same statement (no table rewrite
    # on PostgreSQL); it is dropped right after, so new rows must name their location.
    fill = sa.text(str(int(default_id)))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location_id", sa.Integer(), nullable=False, server_default=fill))
        batch_op.add_column(sa.Column("tax_rate_thousandths", sa.Integer(), server_default=sa.text("0"),
                                      nullable=False))
        batch_op.add_column(sa.Column("prices_include_tax", sa.Boolean(), server_default=sa.text("false"),
                                      nullable=False))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("location_id", server_default=None)
        batch_op.create_foreign_key(batch_op.f("fk_orders_location_id_locations"), "locations", ["location_id"], ["id"])
        batch_op.create_index("ix_orders_location_business_date", ["location_id", "business_date"], unique=False)
        batch_op.create_index("ix_orders_location_created_at_id", ["location_id", "created_at", "id"], unique=False)

    for table, (keys, values) in ROLLUP_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("location_id", sa.Integer(), nullable=False, server_default=fill))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("location_id", server_default=None)
            batch_op.drop_index(f"ix_{table}_key")
            batch_op.create_index(f"ix_{table}_key", [keys[0], "location_id", *keys[1:]], unique=False,
                                  postgresql_include=values)


def downgrade():
    for table, (keys, values) in ROLLUP_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_key")
            batch_op.create_index(f"ix_{table}_key", keys, unique=False, postgresql_include=values)
            batch_op.drop_column("location_id")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_location_created_at_id")
        batch_op.drop_index("ix_orders_location_business_date")
        batch_op.drop_constraint(batch_op.f("fk_orders_location_id_locations"), type_="foreignkey")
        batch_op.drop_column("prices_include_tax")
        batch_op.drop_column("tax_rate_thousandths")
        batch_op.drop_column("location_id")

    with op.batch_alter_table("user_locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_locations_location_id"))
    op.drop_table("user_locations")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index("uq_locations_default", postgresql_where=sa.text("is_default"),
                            sqlite_where=sa.text("is_default"))
    op.drop_table("locations")
