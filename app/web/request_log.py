"""Request ids, the access log, and the logging setup: text in development, JSON lines in production."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request
from pythonjsonlogger.json import JsonFormatter
from werkzeug.middleware.proxy_fix import ProxyFix

access_log = logging.getLogger("comanda.request")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def configure_logging(app: Flask) -> None:
    """Send the app's loggers to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(
            JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"asctime": "time"})
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("comanda")
    logger.handlers[:] = [handler]
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = False


def register_request_log(app: Flask) -> None:
    """Trust the configured proxies, give every request an id, and log every answer."""
    hops = app.config["PROXY_FIX_X_FOR"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(start_request)
    app.after_request(finish_request)  # after_request hooks run in reverse: this one runs last


def start_request() -> None:
    """Adopt a well-formed X-Request-ID or make one; start the clock."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
    g.started_at = time.perf_counter()


def finish_request(response: Response) -> Response:
    """Stamp X-Request-ID on the answer and write the access log line."""
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers["X-Request-ID"] = request_id
    duration_ms = round((time.perf_counter() - g.get("started_at", time.perf_counter())) * 1000, 2)
    access_log.info(
        "%s %s %s %sms",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        extra={
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "remote_addr": request.remote_addr,
        },
    )
    return response
