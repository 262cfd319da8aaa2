"""Small network helpers shared by every listening command (collector, query endpoint, control server,
metrics endpoint)."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading


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


_BUSY_BODY = b"too many open connections; retry shortly\n"
BUSY_REPLY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
              b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY))


class ConnectionCap:
    """Mix-in for a ``ThreadingHTTPServer`` (put it first): at most ``max_connections`` connections are
    served at once, one thread each; one more is answered 503 and closed at once. Without it, idle or
    slow clients (slowloris) grow the serving process's threads without bound — in an instrumented
    app, until the app itself cannot start a thread. ``refused_connections`` counts the 503s."""

    max_connections = 64
    refused_connections = 0
    request_queue_size = 128  # listen backlog (socketserver's 5 makes a burst of clients retry SYNs for seconds)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(self.max_connections)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            self.refused_connections += 1
            if not hasattr(request, "do_handshake"):  # plain TCP: say why (a TLS handshake could stall us)
                try:
                    request.setblocking(False)
                    request.recv(65536)  # what the client sent so far: closing on unread bytes resets
                except OSError:
                    pass
                try:
                    request.send(BUSY_REPLY)
                except OSError:
                    pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def read_token_file(path: str, what: str) -> str:
    """A token from a private file (``what`` names the flag or variable in errors): one word of at
    least 16 characters. Raises ``ValueError`` naming what is wrong, never showing the token."""
    info = os.stat(path)
    if info.st_mode & 0o077:
        raise ValueError(f"{what} {path} is readable by others (mode {info.st_mode & 0o777:o}): chmod 600 it")
    with open(path, encoding="utf-8") as f:
        token = f.read(4096).strip()
    if len(token) < 16 or any(c.isspace() for c in token):
        raise ValueError(f"{what} {path}: the token must be one word of at least 16 characters")
    return token


def allowed_hosts(bind_host: str) -> frozenset:
    """Names a request's ``Host`` may carry: the bind address and ``localhost`` (loopback aliases too);
    on a wildcard bind, this machine's names and any IP literal are checked in ``host_allowed``."""
    names = {bind_host.strip("[]").lower(), "localhost"}
    if is_loopback(bind_host):
        names |= {"127.0.0.1", "::1"}
    if bind_host in ("0.0.0.0", "::", ""):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(names)


def _host_part(value: str) -> str:
    """``host:port`` / ``[v6]:port`` -> host, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(value: str, names: frozenset, wildcard: bool) -> bool:
    host = _host_part(value)
    if host in names:
        return True
    if wildcard:  # rebinding needs a DNS name: IP literals cannot be rebound
        try:
            ipaddress.ip_address(host)
            return True
        except ValueError:
            return False
    return False
