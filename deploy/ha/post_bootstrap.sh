#!/bin/sh
# Patroni's bootstrap.post_bootstrap: runs once, on the node that initialised the cluster, with a
# superuser connection string as $1. Creates the app's role (never a superuser) and database.
set -eu
: "${COMANDA_DB_PASSWORD:?set HA_DB_PASSWORD in .env}"
psql "$1" -v ON_ERROR_STOP=1 -v pw="$COMANDA_DB_PASSWORD" <<'SQL'
CREATE ROLE comanda LOGIN PASSWORD :'pw';
CREATE DATABASE comanda OWNER comanda;
SQL
