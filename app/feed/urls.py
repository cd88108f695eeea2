"""Where webhooks may point: public destinations only (API.md "Webhooks"). Checked after DNS resolution
when the webhook is saved, and again at each delivery against the addresses actually connected to, so a
name that later resolves to the internal network (DNS rebinding) is refused then too."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

PORTS = {"http": 80, "https": 443}


class UnsafeURL(ValueError):
    """The URL is malformed or points somewhere a webhook may not go."""


def allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS"))


def parse(url: str, *, production: bool, private_ok: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL a webhook may have; UnsafeURL otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("Not a valid URL.") from None
    if parts.scheme not in PORTS or not parts.hostname:
        raise UnsafeURL("Must be an http:// or https:// URL with a host.")
    if production and not private_ok and parts.scheme != "https":
        raise UnsafeURL("Must be an https:// URL.")
    if parts.username or parts.password:
        raise UnsafeURL("Must not carry credentials.")
    return parts.scheme, parts.hostname, port or PORTS[parts.scheme]


def is_public(address: str) -> bool:
    """A global unicast address (not loopback, private, link-local, shared, reserved, multicast...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, *, private_ok: bool) -> list[str]:
    """The addresses of `host`, every one of them public unless `private_ok`; UnsafeURL otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeURL("The host does not resolve.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not private_ok and (not addresses or not all(is_public(a) for a in addresses)):
        raise UnsafeURL("The host is, or resolves to, a loopback, private, link-local or otherwise "
                        "non-public address.")
    return addresses


def check(url: str) -> None:
    """Refuse (UnsafeURL) a URL a webhook may not have, with this deployment's settings."""
    private_ok = allow_private()
    production = current_app.config.get("ENV_NAME") == "production"
    _, host, port = parse(url, production=production, private_ok=private_ok)
    resolve(host, port, private_ok=private_ok)
