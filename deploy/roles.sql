-- The two database roles Comanda runs with (docs/security.md "Database roles"). Run once per
-- database, as a superuser, connected to Comanda's database; safe to run again:
--
--   psql -v ON_ERROR_STOP=1 -d comanda -v owner=comanda_owner -v owner_password='...' \
--        -v app=comanda_app -v app_password='...' -f deploy/roles.sql
--
-- owner: owns the database, the schema and every table; `flask db upgrade` connects as it
--        (MIGRATION_DATABASE_URL).
-- app:   what gunicorn and the scheduler connect as (DATABASE_URL): rows only. No CREATE on the
--        schema (no DDL), not the owner of any table (no ALTER TABLE, no DROP/DISABLE TRIGGER),
--        no TRUNCATE; on the append-only tables (app/grants.py) only SELECT and INSERT, which
--        `flask db upgrade` re-applies after every migration.
-- An empty password leaves the role without one (local trust or peer authentication).
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'owner', NULLIF(:'owner_password', '')) \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD %L', :'app', NULLIF(:'app_password', '')) \gexec

SELECT format('ALTER DATABASE %I OWNER TO %I', current_database(), :'owner') \gexec
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- Tables that exist already (a database first run with one role: see docs/security.md) ...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
-- ... and every table and sequence a later migration creates as the owner.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";
-- The append-only tables lose UPDATE and DELETE again at the next `flask db upgrade` (app/grants.py);
-- run it after this script.
