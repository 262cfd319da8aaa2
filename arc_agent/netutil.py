"""Small network helpers shared by every listening command (collector, query endpoint, control server)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``[::1]`` brackets allowed): the one rule that
    decides whether a port may listen without TLS and a token."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
