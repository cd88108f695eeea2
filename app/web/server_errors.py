"""The refusals gunicorn writes itself, before any request reaches the app, as problem+json.

gunicorn answers a request line over `limit_request_line` (414), too many or too large headers (431)
and a request it cannot parse (400) with an HTML page of its own. deploy/gunicorn.conf.py sets its
limits above nginx's, so behind nginx those never reach a client; gunicorn started without that file
(or without nginx) would still send them. `problem_json_server_errors` replaces gunicorn's writer in
the worker (wsgi.py calls it), so every answer is problem+json whatever gunicorn was started with.
"""

from __future__ import annotations

import json
from typing import Any

from app.errors import HTTP_CODES, PROBLEM_MIMETYPE, ErrorCode


def problem_bytes(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 problem+json answer that closes the connection."""
    body = json.dumps({
        "type": "about:blank", "title": reason, "status": status,
        "code": str(HTTP_CODES.get(status, ErrorCode.BAD_REQUEST if 400 <= status < 500 else ErrorCode.ERROR)),
        "detail": detail,
    }).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: {PROBLEM_MIMETYPE}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def problem_json_server_errors() -> None:
    """Make gunicorn's own error answers problem+json (a no-op where gunicorn is not installed)."""
    try:
        from gunicorn import util
    except ImportError:
        return
    if getattr(util.write_error, "comanda", False):
        return

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        util.write_nonblock(sock, problem_bytes(int(status_int), str(reason), str(mesg)))

    write_error.comanda = True  # type: ignore[attr-defined]
    util.write_error = write_error
