#!/bin/sh
# docker compose: run once by the postgres image on a new data volume (docker-entrypoint-initdb.d),
# as the superuser POSTGRES_USER, to create Comanda's owner and app roles (deploy/roles.sql).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner="${DB_OWNER_USER:-comanda_owner}" -v owner_password="$DB_OWNER_PASSWORD" \
    -v app="${DB_APP_USER:-comanda_app}" -v app_password="$DB_APP_PASSWORD" \
    -f /comanda/roles.sql
