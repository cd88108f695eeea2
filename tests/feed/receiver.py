"""A real HTTP webhook receiver for the tests, and an independent Standard Webhooks verifier (written
from the specification, not with the `standardwebhooks` package the app signs with)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks: HMAC-SHA256 keyed with base64-decoded secret (after `whsec_`) over
    "<webhook-id>.<webhook-timestamp>.<body>", base64, compared against every `v1,` signature."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(version == "v1" and hmac.compare_digest(sig, expected)
               for version, _, sig in (part.partition(",") for part in headers["webhook-signature"].split(" ")))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    peer: tuple[str, int] = ("", 0)  # the client's address and port: one per TCP connection

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with `respond(received) -> status` (default 200), after `delay(received)` seconds."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    respond: Callable[[Received], int] = lambda r: 200
    in_flight: dict[str, int] = field(default_factory=dict)
    overlaps: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def wait_for(self, count: int, seconds: float = 30) -> list[Received]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.requests)} requests received, {count} expected")


@contextmanager
def receiving(respond: Callable[[Received], int] | None = None, *, keep_alive: bool = False,
              drop_idle: bool = False) -> Iterator[Receiver]:
    """A receiver on a free port. `keep_alive`: HTTP/1.1, connections stay open between requests (as most
    servers do); `drop_idle` too: the receiver closes each connection after answering without saying so
    (as a server does when an idle keep-alive connection times out)."""
    receiver = Receiver()
    if respond is not None:
        receiver.respond = respond

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got = Received({k.lower(): v for k, v in self.headers.items()}, body, time.monotonic(),
                           tuple(self.client_address))
            msg = got.headers.get("webhook-id", "")
            with receiver.lock:
                receiver.requests.append(got)
                if receiver.in_flight.get(msg):
                    receiver.overlaps.append(msg)
                receiver.in_flight[msg] = receiver.in_flight.get(msg, 0) + 1
            receiver.arrived.set()
            try:
                status = receiver.respond(got)
            finally:
                with receiver.lock:
                    receiver.in_flight[msg] -= 1
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass
            if drop_idle:
                self.close_connection = True

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
