# Comanda API image: gunicorn serving wsgi:app, meant to sit behind deploy/nginx.conf.
# Build: docker build -t comanda .   Run the whole stack: docker compose up -d --build
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# An unprivileged user with no shell and no writable home: the code stays root-owned and
# read-only to the process that runs it.
RUN groupadd --system comanda \
    && useradd --system --gid comanda --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin comanda

# Dependencies first, so code changes do not reinstall them. Runtime requirements only:
# every wheel (psycopg2-binary, argon2-cffi) is prebuilt, so no compiler is needed.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
RUN chmod 0755 deploy/entrypoint.sh

USER comanda

# FLASK_APP lets one-off commands skip --app: docker compose exec app flask users ensure-admin
ENV COMANDA_ENV=production \
    FLASK_APP=wsgi \
    GUNICORN_BIND=0.0.0.0:8000

EXPOSE 8000

# No curl in slim images: the standard library does the probe. /health answers 503 when the
# database is unreachable, which urlopen raises as an error, so the container turns unhealthy.
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

ENTRYPOINT ["/app/deploy/entrypoint.sh"]
