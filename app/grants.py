"""What the app's database role may do, enforced after every `flask db upgrade` (PostgreSQL).

Migrations run as an owner role (MIGRATION_DATABASE_URL), the app as a role with only what it needs
(DATABASE_URL); deploy/roles.sql creates both and gives the app SELECT, INSERT, UPDATE and DELETE on
every table the owner creates, now and later (ALTER DEFAULT PRIVILEGES). `enforce_grants` then takes
back, from every role but the table's owner, what the app must never have, so a grant written too
broadly by hand or by the role set-up is narrowed again at the next upgrade:

- TRUNCATE, TRIGGER and REFERENCES on every table (DDL and trigger changes need ownership anyway);
- UPDATE and DELETE on the append-only tables (the history; the feed adds its event table here);
- INSERT, UPDATE and DELETE on alembic_version (only migrations move the schema's version).

Why a function run after upgrade rather than a migration step: a migration runs once, so a table
added later by another migration would need its own revoke; this reads the one list below every time.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Tables whose rows are written once and never changed or removed by the app. Extend, never shorten.
# Not the report rollups (report_*, the till's `report_payment_*` of 0014 included): the app writes
# them only by INSERT, but `flask reports compact`/`rebuild`, run as the app role, delete and replace
# their rows; they get the app's rows-only grants and lose TRUNCATE, TRIGGER and REFERENCES like any table.
APPEND_ONLY_TABLES: list[str] = ["order_events", "feed_events", "drawer_movements"]
MIGRATION_TABLES = ("alembic_version",)

NEVER = frozenset({"TRUNCATE", "TRIGGER", "REFERENCES"})
APPEND_ONLY_NEVER = NEVER | {"UPDATE", "DELETE"}
MIGRATION_NEVER = NEVER | {"INSERT", "UPDATE", "DELETE"}

GRANTS = text("""
SELECT c.relname, a.privilege_type,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) a
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.grantee <> c.relowner
""")


def refused(table: str) -> frozenset[str]:
    """The privileges no role but the owner keeps on `table`."""
    if table in APPEND_ONLY_TABLES:
        return APPEND_ONLY_NEVER
    if table in MIGRATION_TABLES:
        return MIGRATION_NEVER
    return NEVER


def enforce_grants(connection: Connection) -> list[str]:
    """Revoke what no role but the owner may have (see the module docstring); the statements run."""
    if connection.dialect.name != "postgresql":
        return []
    statements = []
    for table, privilege, grantee in connection.execute(GRANTS).all():
        if privilege in refused(table):
            statements.append(f'REVOKE {privilege} ON TABLE "{table}" FROM {grantee}')
    for table in (*APPEND_ONLY_TABLES, *MIGRATION_TABLES):
        # PUBLIC holds nothing on a new table; revoking keeps it so if someone granted it.
        if connection.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar() is not None:
            statements.append(f'REVOKE UPDATE, DELETE, TRUNCATE ON TABLE "{table}" FROM PUBLIC')
    for statement in statements:
        connection.execute(text(statement))
    return statements
