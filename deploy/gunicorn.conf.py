"""gunicorn settings for Comanda: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every knob is read from the environment so the same file serves docker, a plain host
and the deployment test. It always runs behind nginx (deploy/nginx.conf), which buffers
requests and responses, so plain sync workers are enough.
"""

import multiprocessing
import os


def _int_env(name: str, default: int) -> int:
    """An integer from the environment, or the default when unset or empty."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


# Loopback by default: gunicorn trusts X-Forwarded-For when PROXY_FIX_X_FOR > 0 (via the
# app's ProxyFix), so only nginx may reach it. The docker image sets 0.0.0.0:8000 and
# docker-compose.yml keeps that port off the host.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: one request per process, simplest and safe with SQLAlchemy sessions and
# psycopg2. The classic 2*cores+1, capped because each worker holds its own database pool
# and a few tens of MB: a small box (or a container that sees the host's cores) should not
# fork dozens of them.
worker_class = "sync"
workers = _int_env("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9))

# A request that takes longer than this is killed and its worker replaced (nginx waits a
# little longer, see proxy_read_timeout). Shutdown gives in-flight requests graceful_timeout
# to finish: keep it under docker's stop_grace_period (30 s in docker-compose.yml).
timeout = _int_env("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int_env("GUNICORN_GRACEFUL_TIMEOUT", 20)
# Ignored by sync workers (they close every connection); set for other worker classes.
keepalive = 5

# Request-line and header limits above nginx's (deploy/nginx.conf: 4 KiB lines, 16 KiB of
# headers), so anything too large is refused by nginx with problem+json and never reaches
# gunicorn, whose own refusals are HTML. 8190 is gunicorn's maximum for both sizes; 16 KiB of
# headers through nginx is at most ~5,500 minimal header lines, and nginx adds five.
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 8192

# Recycle workers now and then so a slow leak can never grow without bound; the jitter
# keeps them from all restarting at the same moment. A worker's boot (importing the app,
# cold SQLAlchemy statement caches) costs ~0.6 s of CPU on this class of machine: at 2,000
# requests that was ~0.3 ms per request (~5% of an order's CPU), at 20,000 it is ~0.03 ms,
# and the worker RSS measured by `make bench` stays flat (~78 MiB) under load, so a leak
# guard ten times later still guards.
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = max_requests // 10

# One sync worker handles one request at a time, so it uses one database connection at a
# time: a pool of 2 (one in use, one spare) with 2 overflow is plenty, and bounds the
# connections the workers can hold to 4 each (9 workers: 36, well under PostgreSQL's 100).
# The app's generic defaults (5 + 10) are for threaded callers (CLI, tests); the operator's
# environment still wins.
for _name, _value in (("DB_POOL_SIZE", "2"), ("DB_MAX_OVERFLOW", "2")):
    if not os.environ.get(_name, "").strip():
        os.environ[_name] = _value

# Each worker imports the app and opens its own connections after the fork; nothing is
# shared with the master (no preload).
preload_app = False

# The worker heartbeat is an fchmod on a temp file: on a disk-backed /tmp (docker's overlay
# fs) that can block, so use memory when the system has it.
if os.path.isdir("/dev/shm"):  # noqa: S108 - gunicorn's documented advice, not a file we name
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# gunicorn 25+ opens a control socket under $HOME by default. Two servers on one machine
# would steal each other's socket, and the container's user cannot write its home: off
# unless a path is given.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True

# No access log by default: nginx logs every request, and the app writes one line per
# request (comanda.request: method, path, status, duration, request id) to stderr, so a
# third line per request from gunicorn was duplicate work on the hot path.
# GUNICORN_ACCESS_LOG=- (or a path) turns it back on; the line then carries the request id
# the app answered with, to match nginx's log. Errors (and the app's log) go to stderr.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "").strip() or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'

# forwarded_allow_ips stays at gunicorn's default on purpose: the client address and scheme
# come from the app's ProxyFix (PROXY_FIX_X_FOR), one place with one rule.
proc_name = "comanda"
