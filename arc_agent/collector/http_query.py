"""Read-only SQL over HTTP, speaking the ClickHouse HTTP interface's reading subset.

``GET /?query=SELECT...`` or ``POST /`` with the query in the body (or both: URL part, newline,
body — as ClickHouse does). Output is the statement's ``FORMAT`` clause, else ``default_format``,
else TabSeparated. ``GET /`` and ``/ping`` answer ``Ok.``. Statements other than one SELECT-like
statement are refused with 403 and a message; SQL errors give 400 with ClickHouse's message.
``GET /arc/status`` returns the collector's counters as JSON (queued spans, spans written, ...).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from arc_agent.collector.sqlguard import RefusedQuery, check_read_only, output_format
from arc_agent.collector.store import Store, StoreError

log = logging.getLogger("arc.collector")

MAX_BODY_BYTES = 1024 * 1024


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


class _Handler(BaseHTTPRequestHandler):
    server_version = "arc-collector"
    protocol_version = "HTTP/1.1"
    store: Store  # set on the subclass made by serve_queries
    status: Callable[[], dict] | None = None

    def log_message(self, fmt, *args) -> None:  # quiet: no per-request stderr lines
        log.debug("query endpoint: " + fmt, *args)

    def _reply(self, status: int, body: bytes, ctype: str = "text/plain; charset=UTF-8", fmt: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if fmt:
            self.send_header("X-ClickHouse-Format", fmt)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self, body: str) -> None:
        url = urlsplit(self.path)
        if url.path == "/arc/status" and self.status is not None:
            self._reply(200, json.dumps(self.status()).encode() + b"\n", "application/json")
            return
        if url.path not in ("/", "/query", "/ping"):
            self._reply(404, b"Not found. Use /?query=SELECT ...\n")
            return
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        sql = "\n".join(part for part in (params.get("query", ""), body) if part.strip())
        if url.path == "/ping" or not sql.strip():
            self._reply(200, b"Ok.\n")
            return
        try:
            statement = check_read_only(sql)
        except RefusedQuery as exc:
            self._reply(403, f"Refused: {exc}\n".encode())
            return
        fmt = output_format(statement, params.get("default_format") or "TabSeparated")
        try:
            result = self.store.query(statement, fmt)
        except StoreError as exc:
            self._reply(400, f"{exc}\n".encode())
            return
        self._reply(200, result, content_type(fmt), fmt)

    def do_GET(self) -> None:  # noqa: N802 — http.server naming
        self._handle("")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(413, b"query too large\n")
            return
        self._handle(self.rfile.read(length).decode("utf-8", "replace") if length else "")


def serve_queries(store: Store, listen: str, status: Callable[[], dict] | None = None) -> tuple:
    """Serve ``store`` read-only on ``listen`` (``host:port``, port 0 = any) in a daemon thread;
    ``status()`` feeds ``/arc/status``. Returns ``(server, port)``; stop with ``server.shutdown()``.
    """
    host, _, port = listen.rpartition(":")
    handler = type("QueryHandler", (_Handler,), {"store": store, "status": staticmethod(status) if status else None})
    server = ThreadingHTTPServer((host.strip("[]") or "127.0.0.1", int(port)), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="arc-query-http", daemon=True).start()
    return server, server.server_address[1]
