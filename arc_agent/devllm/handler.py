"""The HTTP side of ``arc dev-llm``: routing, request log, fault injection, JSON and SSE writing.

Stdlib only (``ThreadingHTTPServer``, HTTP/1.1 keep-alive, chunked SSE) so it starts in milliseconds
and adds no dependency. ``server.DevLLMServer`` owns the lifecycle.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from ..netutil import ConnectionCap, allowed_hosts, host_allowed
from . import anthropic_api, openai_api
from .config import DevLLMConfig
from .exchange import ANTHROPIC, OPENAI, ApiError, Call, StreamReply
from .faults import (
    CHUNK_DELAY_HEADER,
    DELAY_HEADER,
    STREAM_ABORT_AFTER_HEADER,
    STREAM_ERROR_AFTER_HEADER,
    FaultPlan,
    header_int,
)
from .requestlog import RequestLog

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_LOGGED_BODY_BYTES = 1024 * 1024
"""Bigger bodies are logged as ``{"_truncated": true, "bytes": n, "head": "..."}`` to bound memory."""

# (method, path without the /v1 prefix) -> (provider, endpoint)
_ROUTES: Dict[Tuple[str, str], Tuple[str, Callable[[Call], Any]]] = {
    ("POST", "/chat/completions"): (OPENAI, openai_api.chat_completions),
    ("POST", "/responses"): (OPENAI, openai_api.responses),
    ("POST", "/embeddings"): (OPENAI, openai_api.embeddings),
    ("GET", "/models"): (OPENAI, openai_api.models),
    ("POST", "/messages"): (ANTHROPIC, anthropic_api.messages),
    ("POST", "/messages/count_tokens"): (ANTHROPIC, anthropic_api.count_tokens),
}
_ANTHROPIC_OVERRIDES = {("GET", "/models"): anthropic_api.models}
_KNOWN_PATHS = {path for _, path in _ROUTES}


class _Disconnected(Exception):
    """The client went away mid-answer (e.g. broke out of a stream); nothing left to write."""


class DevLLMApp:
    """Everything the handler threads share: settings, request log, fault counter, stop signal."""

    def __init__(self, config: DevLLMConfig, verbose: bool = False) -> None:
        config.validate()
        self.config = config
        self.log = RequestLog(config.log_size)
        self.faults = FaultPlan()
        self.stopping = threading.Event()
        self.verbose = verbose
        self.started = time.time()

    def configure(self, changes: Dict[str, Any]) -> DevLLMConfig:
        """Apply new settings atomically (handlers read one reference); restarts the fail_rate count."""
        new = self.config.updated(changes)
        self.log.resize(new.log_size)
        self.faults.reset()
        self.config = new
        return new


def _route_key(path: str) -> str:
    path = path.rstrip("/") or "/"
    return path[3:] if path.startswith("/v1/") else path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: SDK connection pools reuse sockets
    disable_nagle_algorithm = True  # small JSON/SSE writes must not wait for delayed ACKs
    server_version = "arc-dev-llm"
    sys_version = ""
    timeout = 300  # an idle keep-alive connection's thread ends after this
    server: DevLLMHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        if self.server.app.verbose:
            sys.stderr.write(f"dev-llm: {self.address_string()} - {format % args}\n")

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    # -- dispatch ---------------------------------------------------------------------------------------

    def _local_request(self) -> bool:
        """Host (and a browser's Origin) must name this server, else a web page could reach it through
        DNS rebinding (read the request log, change the config): 403."""
        origin = self.headers.get("Origin")
        server = self.server
        if host_allowed(self.headers.get("Host", ""), server.hosts, server.wildcard) and (
                origin is None or host_allowed(urlsplit(origin).netloc, server.hosts, server.wildcard)):
            return True
        self.close_connection = True
        self._send_json(403, {"error": {"message": "arc dev-llm: Host/Origin is not this server's address (use "
                                                   "localhost or the bind address)", "type": "forbidden"}})
        return False

    def _dispatch(self) -> None:
        if not self._local_request():
            return
        try:
            url = urlsplit(self.path)
            if url.path.startswith("/_dev/"):
                self._dev(url.path, parse_qs(url.query))
            else:
                self._api(url.path, url.query)
        except _Disconnected:
            self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "bad Content-Length header") from None
        if length > MAX_BODY_BYTES:
            raise ApiError(413, f"request body larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts, total = [], 0
        while True:
            try:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise ApiError(400, "bad chunk size in chunked request body") from None
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # optional trailers
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise ApiError(413, f"request body larger than {MAX_BODY_BYTES} bytes")
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _api(self, path: str, query: str) -> None:
        app = self.server.app
        headers = {k.lower(): v for k, v in self.headers.items()}
        key = (self.command, _route_key(path))
        route = _ROUTES.get(key)
        if route is not None and key not in _ANTHROPIC_OVERRIDES:
            provider = route[0]
        else:  # shared or unknown paths answer in the format of the SDK that called
            provider = ANTHROPIC if "anthropic-version" in headers else OPENAI
        try:
            raw = self._read_body()
        except ApiError as err:
            self.close_connection = True  # the unread body would corrupt the next request
            record = app.log.add(self.command, path, query, headers, None)
            return self._send_error(err, provider, record)
        body: Any = None
        parse_error: Optional[str] = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                body, parse_error = raw[:65536].decode("utf-8", "replace"), str(exc)
        logged = body if len(raw) <= MAX_LOGGED_BODY_BYTES else {
            "_truncated": True, "bytes": len(raw), "head": raw[:4096].decode("utf-8", "replace")}
        record = app.log.add(self.command, path, query, headers, logged)
        try:
            if route is None:
                known = _route_key(path) in _KNOWN_PATHS
                raise ApiError(405 if known else 404, f"arc dev-llm has no {self.command} {path}")
            if parse_error is not None:
                raise ApiError(400, f"request body is not valid JSON: {parse_error}")
            if self.command == "POST" and not isinstance(body, dict):
                raise ApiError(400, "request body must be a JSON object")
            body = body if isinstance(body, dict) else {}
            config = app.config
            injected = app.faults.injected(config, headers, body.get("model"))
            delay = header_int(headers, DELAY_HEADER)
            self._pause(config.delay_ms if delay is None else delay)
            if injected is not None:
                record["injected"] = injected.status
                raise injected
            endpoint = _ANTHROPIC_OVERRIDES.get(key, route[1]) if provider == ANTHROPIC else route[1]
            reply = endpoint(Call(provider, body, headers, config, record["seq"], int(time.time()), app.stopping))
        except ApiError as err:
            return self._send_error(err, provider, record)
        if isinstance(reply, StreamReply):
            record["stream"] = True
            self._send_stream(reply, headers, record, provider)
        else:
            self._send_json(reply.status, reply.body, record)

    def _dev(self, path: str, query: Dict[str, List[str]]) -> None:
        app = self.server.app
        if path == "/_dev/health" and self.command == "GET":
            return self._send_json(200, {"status": "ok", "uptime_s": round(time.time() - app.started, 3),
                                         "config": dataclasses.asdict(app.config)})
        if path == "/_dev/requests" and self.command == "GET":
            try:
                since = int(query.get("since", ["0"])[0])
            except ValueError:
                return self._send_json(400, {"error": "'since' must be an integer"})
            return self._send_json(200, app.log.snapshot(query.get("path", [None])[0], since))
        if path == "/_dev/requests" and self.command == "DELETE":
            return self._send_json(200, {"cleared": app.log.clear()})
        if path == "/_dev/config" and self.command == "GET":
            return self._send_json(200, dataclasses.asdict(app.config))
        if path == "/_dev/config" and self.command == "POST":
            try:
                changes = json.loads(self._read_body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("body must be a JSON object of settings")
                return self._send_json(200, dataclasses.asdict(app.configure(changes)))
            except (ValueError, ApiError) as exc:
                return self._send_json(400, {"error": str(exc)})
        self._send_json(404, {"error": f"arc dev-llm has no {self.command} {path}; see /_dev/health, "
                                       "/_dev/requests, /_dev/config"})

    # -- writing ----------------------------------------------------------------------------------------

    def _pause(self, ms: int) -> None:
        if ms > 0 and self.server.app.stopping.wait(ms / 1000.0):
            raise _Disconnected()

    def _start(self, status: int, content_type: str, record: Optional[dict], extra: Dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if record is not None:
            request_id = f"req_devllm_{record['seq']}"
            self.send_header("x-request-id", request_id)
            self.send_header("request-id", request_id)
            record["status"] = status
        for name, value in extra.items():
            self.send_header(name, value)

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
        except OSError as exc:  # BrokenPipe / ConnectionReset: the client left
            raise _Disconnected() from exc

    def _send_json(self, status: int, body: Any, record: Optional[dict] = None,
                   extra: Optional[Dict[str, str]] = None) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self._start(status, "application/json", record, extra or {})
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self._write(data)

    def _send_error(self, err: ApiError, provider: str, record: dict) -> None:
        extra = {}
        if err.status == 429 or err.status >= 500:
            retry_ms = self.server.app.config.retry_after_ms
            extra = {"retry-after-ms": str(retry_ms), "retry-after": str(max(1, -(-retry_ms // 1000)))}
        record["error"] = err.message
        self._send_json(err.status, err.body(provider, f"req_devllm_{record['seq']}"), record, extra)

    def _send_stream(self, reply: StreamReply, headers: Dict[str, str], record: dict, provider: str) -> None:
        try:
            gap = header_int(headers, CHUNK_DELAY_HEADER)
            error_after = header_int(headers, STREAM_ERROR_AFTER_HEADER)
            abort_after = header_int(headers, STREAM_ABORT_AFTER_HEADER)
        except ApiError as err:
            return self._send_error(err, provider, record)
        gap = self.server.app.config.chunk_delay_ms if gap is None else gap
        self._start(200, "text/event-stream; charset=utf-8", record, {"Cache-Control": "no-cache"})
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i, frame in enumerate(reply.frames):
            if abort_after is not None and i >= abort_after:
                record["stream_end"] = "aborted"
                self.close_connection = True
                return  # no terminating chunk: the client sees a broken body
            if error_after is not None and i >= error_after:
                record["stream_end"] = "error"
                frame = reply.error_frame(ApiError(500, f"arc dev-llm injected stream error after {i} events"))
                self._write_chunk(frame)
                break
            if i and gap:
                self._pause(gap)
            self._write_chunk(frame)
        self._write(b"0\r\n\r\n")

    def _write_chunk(self, frame: str) -> None:
        data = frame.encode()
        self._write(b"%x\r\n%s\r\n" % (len(data), data))


class DevLLMHTTPServer(ConnectionCap, ThreadingHTTPServer):
    daemon_threads = True
    max_connections = 2048  # a thread each; 1,000 concurrent SDK clients fit, a connection flood does not
    block_on_close = False  # stop() closes live connections itself instead of waiting for them
    request_queue_size = 4096  # 1,000 concurrent SDK clients must not overflow the accept backlog

    def __init__(self, host: str, port: int, app: DevLLMApp) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.app = app
        self.hosts, self.wildcard = allowed_hosts(host), host in ("0.0.0.0", "::", "")
        self._connections: set = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            (self._connections.add if alive else self._connections.discard)(conn)

    def close_connections(self) -> None:
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, OSError)):
            return  # clients closing sockets is normal here
        super().handle_error(request, client_address)
