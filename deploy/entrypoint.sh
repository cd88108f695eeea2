#!/bin/sh
# Container entrypoint: bring the schema up to date once, then hand the process over to
# gunicorn (exec, so gunicorn is PID 1 and receives docker's SIGTERM for a graceful stop).
#
# Migrations run here, before any worker exists, and never inside the app: workers racing
# on `db upgrade` is exactly what this avoids. With several app replicas, run
# `flask --app wsgi db upgrade` as a one-off job instead and start them with
# COMANDA_SKIP_MIGRATIONS=1.
#
# Any arguments replace the server, for one-off commands in the same image:
#   docker compose run --rm app flask --app wsgi db upgrade
#   docker compose run --rm app flask --app wsgi --help
set -eu

cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

if [ "${COMANDA_SKIP_MIGRATIONS:-0}" != "1" ]; then
    # The database may still be starting (plain `docker run`, a managed database after a
    # failover): retry a bounded number of times, then fail loudly so the container restarts.
    attempts="${MIGRATE_ATTEMPTS:-10}"
    n=1
    until flask --app wsgi db upgrade; do
        if [ "$n" -ge "$attempts" ]; then
            echo "entrypoint: 'flask db upgrade' failed $n times, giving up" >&2
            exit 1
        fi
        echo "entrypoint: 'flask db upgrade' failed (attempt $n/$attempts), retrying in 3s" >&2
        n=$((n + 1))
        sleep 3
    done
fi

exec gunicorn -c deploy/gunicorn.conf.py wsgi:app
