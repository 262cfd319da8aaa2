"""Read-only SQL over HTTP, speaking the ClickHouse HTTP interface's reading subset.

``GET /?query=SELECT...`` or ``POST /`` with the query in the body (or both: URL part, newline,
body — as ClickHouse does). Output is the statement's ``FORMAT`` clause, else ``default_format``,
else TabSeparated. ``/ping`` answers ``Ok.``; ``/arc/status`` the collector's counters as JSON.

Every request must carry the collector's token (``collector.json``): ``Authorization: Bearer T``,
``X-ClickHouse-Key: T`` or basic auth with T as the password (what ClickHouse clients send), else 401.
The ``Host`` must be the bind address or ``localhost`` and a browser ``Origin`` must be one of those
too (DNS rebinding), else 403. Queries are vetted by ``sqlguard`` (403 ``Refused: ...``), run by the
store in their own read-only session with limits (400 with the engine's message), 503 when every
query slot is busy, and cancelled when the client disconnects.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import select
import socket
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from arc_agent.collector.sqlguard import RefusedQuery
from arc_agent.collector.store import Store, StoreBusy, StoreError
from arc_agent.netutil import ConnectionCap, allowed_hosts, host_allowed, is_loopback

log = logging.getLogger("arc.collector")

MAX_BODY_BYTES = 1024 * 1024
IDLE_TIMEOUT = 30.0  # seconds a connection may sit without sending a request
MAX_CONNECTIONS = 64  # open connections served at once (a thread each); more get 503 and are closed
_HANGUP = getattr(select, "POLLRDHUP", 0) | select.POLLHUP | select.POLLERR


def content_type(fmt: str) -> str:
    f = fmt.lower()
    if f.startswith("json"):
        return "application/json; charset=UTF-8"
    if f.startswith("csv"):
        return "text/csv; charset=UTF-8"
    if f.startswith("tabseparated") or f.startswith("tsv"):
        return "text/tab-separated-values; charset=UTF-8"
    if f in ("pretty", "prettycompact", "vertical", "markdown"):
        return "text/plain; charset=UTF-8"
    return "application/octet-stream"


class QueryStats:
    """Counters for ``/arc/status`` (``query`` section)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values = {"running": 0, "served": 0, "refused": 0, "failed": 0, "busy": 0, "cancelled": 0,
                       "unauthorized": 0, "forbidden": 0}

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.values[key] += n

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self.values)


class _Handler(BaseHTTPRequestHandler):
    server_version = "arc-collector"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    store: Store  # the following are set on the subclass made by serve_queries
    status: Callable[[], dict] | None = None
    token: str = ""
    hosts: frozenset = frozenset()
    wildcard: bool = False
    stats: QueryStats

    def log_message(self, fmt, *args) -> None:  # quiet: no per-request stderr lines
        log.debug("query endpoint: " + fmt, *args)

    def _reply(self, status: int, body: bytes, ctype: str = "text/plain; charset=UTF-8", fmt: str = "",
               headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if fmt:
            self.send_header("X-ClickHouse-Format", fmt)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client left (its query was cancelled)
                self.close_connection = True

    def _presented_token(self) -> str:
        auth = self.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip()
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                return ""
        return self.headers.get("X-ClickHouse-Key", "")

    def _admitted(self) -> bool:
        """Host/Origin (403) then token (401) checks; replies itself when refusing."""
        host = self.headers.get("Host", "")
        origin = self.headers.get("Origin")
        origin_host = urlsplit(origin).netloc if origin else ""
        if not host_allowed(host, self.hosts, self.wildcard) or (
                origin is not None and not host_allowed(origin_host, self.hosts, self.wildcard)):
            self.stats.add("forbidden")
            self._reply(403, b"Forbidden: Host/Origin is not this endpoint's address (use localhost or the "
                             b"bind address)\n")
            return False
        if not hmac.compare_digest(self._presented_token().encode(), self.token.encode()):
            self.stats.add("unauthorized")
            self._reply(401, b"Unauthorized: send the token from the store's collector.json as "
                             b"'Authorization: Bearer <token>' or as the ClickHouse password\n",
                        headers={"WWW-Authenticate": 'Basic realm="arc collector"'})
            return False
        return True

    def _handle(self, body: str, admitted: bool = False) -> None:
        if not admitted and not self._admitted():
            return
        url = urlsplit(self.path)
        if url.path == "/arc/status" and self.status is not None:
            self._reply(200, json.dumps({**self.status(), "query": self.stats.snapshot()}).encode() + b"\n",
                        "application/json")
            return
        if url.path not in ("/", "/query", "/ping"):
            self._reply(404, b"Not found. Use /?query=SELECT ...\n")
            return
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        sql = "\n".join(part for part in (params.get("query", ""), body) if part.strip())
        if url.path == "/ping" or not sql.strip():
            self._reply(200, b"Ok.\n")
            return
        self._run(sql, params.get("default_format") or "TabSeparated")

    def _run(self, sql: str, fmt: str) -> None:
        tag = f"arc-query-{uuid.uuid4().hex}"
        done = threading.Event()
        watcher = threading.Thread(target=self._watch_disconnect, args=(tag, done), daemon=True,
                                   name="arc-query-watch")
        self.stats.add("running")
        watcher.start()
        try:
            result, fmt = self.store.run(sql, fmt, tag=tag)
        except RefusedQuery as exc:
            self.stats.add("refused")
            self._reply(403, f"Refused: {exc}\n".encode())
            return
        except StoreBusy as exc:
            self.stats.add("busy")
            self._reply(503, f"{exc}\n".encode(), headers={"Retry-After": "1"})
            return
        except StoreError as exc:
            self.stats.add("failed")
            self._reply(400, f"{exc}\n".encode())
            return
        finally:
            done.set()
            self.stats.add("running", -1)
        self.stats.add("served")
        self._reply(200, result, content_type(fmt), fmt)

    def _watch_disconnect(self, tag: str, done: threading.Event) -> None:
        """While the query runs, cancel it if the client hangs up (POLLRDHUP: works under TLS too)."""
        poller = select.poll()
        try:
            poller.register(self.connection.fileno(), _HANGUP)
        except (OSError, ValueError):
            return
        while not done.is_set():
            if poller.poll(100):
                break
        if done.is_set():  # ended first (the client may close right after reading the answer)
            return
        self.stats.add("cancelled")
        while not done.is_set():  # again until it ends: the hang-up may come before the engine starts it
            try:
                self.store.cancel(tag)
            except Exception as exc:
                log.debug("query endpoint: cancel failed: %s", exc)
            done.wait(0.2)

    def do_GET(self) -> None:  # noqa: N802 — http.server naming
        self._handle("")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("")

    def do_POST(self) -> None:  # noqa: N802
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._reply(413, b"query too large (or bad Content-Length)\n")
            return
        if not self._admitted():  # before reading a body a stranger sends (slowly, perhaps)
            self.close_connection = True  # its unread body must not be taken for the next request
            return
        self._handle(self.rfile.read(length).decode("utf-8", "replace") if length else "", admitted=True)


class QueryServer(ConnectionCap, ThreadingHTTPServer):
    daemon_threads = True
    max_connections = MAX_CONNECTIONS
    stats: QueryStats


def serve_queries(store: Store, listen: str, token: str, status: Callable[[], dict] | None = None,
                  tls_cert: str | None = None, tls_key: str | None = None) -> tuple:
    """Serve ``store`` read-only on ``listen`` (``host:port``, port 0 = any) in a daemon thread;
    ``token`` is required on every request; with ``tls_cert``/``tls_key`` it speaks HTTPS only.
    ``status()`` feeds ``/arc/status``. Returns ``(server, port)``; stop with ``server.shutdown()``.
    """
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not token:
        raise ValueError("the query endpoint needs a token")
    if not is_loopback(host) and not (tls_cert and tls_key):
        raise ValueError(f"--query-listen {listen}: binding beyond loopback needs --tls-cert and --tls-key")
    stats = QueryStats()
    handler = type("QueryHandler", (_Handler,), {
        "store": store, "status": staticmethod(status) if status else None, "token": token,
        "hosts": allowed_hosts(host), "wildcard": host in ("0.0.0.0", "::"), "stats": stats})
    server_class = QueryServer
    if ":" in host:
        server_class = type("QueryServer6", (QueryServer,), {"address_family": socket.AF_INET6})
    server = server_class((host, int(port)), handler)
    server.stats = stats
    if tls_cert and tls_key:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_cert, tls_key)
        # the handshake then happens in the request's own thread, so a stalled client holds only that thread
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, name="arc-query-http", daemon=True).start()
    return server, server.server_address[1]
