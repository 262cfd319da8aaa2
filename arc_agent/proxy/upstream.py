"""Sending a proxied request upstream (aiohttp client) and holding what came back for the relay.

Errors are raised the way the provider's SDK would raise them in-process, so the span's
``error.type`` is the same: an HTTP error status raises a class named after the SDK's
(``RateLimitError``, ``InternalServerError`` …), an unreachable upstream ``APIConnectionError`` /
``APITimeoutError``. Credentials are forwarded, never kept: headers live only in the request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from .routes import status_error_name
from .views import LazyJson, SSESplitter

# not forwarded either way: hop-by-hop (RFC 9110 7.6.1), what aiohttp recomputes, and the proxy's own token
_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                  "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding",
                  "expect"})
_RESPONSE_DROP = _HOP | {"content-encoding"}  # the client session decompresses
ERROR_BODY_BYTES = 1024 * 1024


class UpstreamError(Exception):
    """The upstream answered, with an error status: the exchange holds its answer for the relay.
    ``status_code`` and ``body`` (the parsed error JSON) as on the SDKs' ``APIStatusError``, where
    the call path reads the error facts (``llm/outcome.py``)."""

    def __init__(self, message: str, status_code: int, body: Any) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class UpstreamUnreachable(Exception):
    """No answer from the upstream (refused, reset, DNS, TLS, timeout): the client gets a 502."""


class APIConnectionError(UpstreamUnreachable):
    pass


class APITimeoutError(UpstreamUnreachable):
    pass


_status_errors: dict = {}


def status_error(provider: str, status: int, body: bytes) -> UpstreamError:
    name = status_error_name(provider, status)
    cls = _status_errors.get(name)
    if cls is None:
        cls = _status_errors[name] = type(name, (UpstreamError,), {"__module__": __name__})
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    return cls(f"upstream answered HTTP {status}", status, parsed)


def forward_headers(headers: Any) -> list:
    return [(k, v) for k, v in headers.items() if k.lower() not in _HOP]


def response_headers(headers: Any) -> list:
    return [(k, v) for k, v in headers.items() if k.lower() not in _RESPONSE_DROP]


def encode_body(kwargs: Mapping) -> bytes:
    """A fixed request as JSON; ``extra_body`` (where fixes put what an SDK takes only that way) is
    merged into the top level, as the SDKs do."""
    body = dict(kwargs)
    extra = body.pop("extra_body", None)
    if isinstance(extra, Mapping):
        body.update(extra)
    return json.dumps(body, separators=(",", ":")).encode()


class Exchange:
    """One proxied request and, once it came, the upstream's answer: status, headers, the body read
    so far (``body``) and the response still to be read (``rest``: a stream or a large body)."""

    __slots__ = ("provider", "method", "url", "headers", "body", "status", "reply_headers", "reply_body", "rest",
                 "events")

    def __init__(self, provider: str, method: str, url: URL, headers: list, body: bytes) -> None:
        self.provider = provider
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.status = 0
        self.reply_headers: list = []
        self.reply_body = b""
        self.rest: aiohttp.ClientResponse | None = None
        self.events: Any = None  # SSEStream of a streamed answer

    def close(self) -> None:
        if self.rest is not None:
            self.rest.close()
            self.rest = None


async def _read_up_to(response: aiohttp.ClientResponse, limit: int) -> tuple:
    """(bytes read, whole body read?) reading at most about ``limit`` bytes."""
    pieces, size = [], 0
    async for piece in response.content.iter_any():
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            break
    return b"".join(pieces), response.content.at_eof()


class SSEStream:
    """The upstream's event stream as the call path's stream proxies expect it: an async iterator
    of events, ``close()``-able, yielding each event as soon as its last byte arrived."""

    def __init__(self, exchange: Exchange, response: aiohttp.ClientResponse) -> None:
        self._exchange = exchange
        self._response = response
        self._pieces = response.content.iter_any().__aiter__()
        self._splitter = SSESplitter()
        self._ready: list = []
        self._ended = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        while not self._ready:
            if self._ended:
                raise StopAsyncIteration
            try:
                piece = await self._pieces.__anext__()
            except StopAsyncIteration:
                self._ended = True
                self._ready = self._splitter.close()
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                raise _unreachable(exc) from exc
            self._ready = self._splitter.feed(piece)
        return self._ready.pop(0)

    async def close(self) -> None:
        self._ended = True
        self._exchange.close()


def _unreachable(exc: BaseException) -> UpstreamUnreachable:
    if isinstance(exc, asyncio.TimeoutError):
        return APITimeoutError(f"upstream timed out ({type(exc).__name__})")
    return APIConnectionError(f"upstream unreachable: {type(exc).__name__}: {exc}")


class Upstream:
    """The client side of the proxy: one aiohttp session (connection pool) for every request."""

    def __init__(self, connect_timeout: float = 10.0, read_timeout: float = 600.0,
                 max_response_bytes: int = 64 * 1024 * 1024, ssl: Any = None) -> None:
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        self._max_response = max_response_bytes
        self._ssl = ssl
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=0, ssl=self._ssl if self._ssl is not None else True)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout, auto_decompress=True,
                                              skip_auto_headers=("User-Agent",))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, exchange: Exchange, body: bytes, stream: bool) -> Any:
        """Send; return the parsed answer (a lazy JSON view) or an ``SSEStream``; raise the SDK-named
        error for an error status (the exchange keeps the answer) or ``UpstreamUnreachable``."""
        assert self._session is not None
        headers = exchange.headers + [("Accept-Encoding", "gzip, deflate")]
        try:
            response = await self._session.request(exchange.method, exchange.url, data=body, headers=headers,
                                                    allow_redirects=False)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise _unreachable(exc) from exc
        exchange.status = response.status
        exchange.reply_headers = response_headers(response.headers)
        exchange.rest = response
        try:
            if response.status >= 400:
                exchange.reply_body, whole = await _read_up_to(response, ERROR_BODY_BYTES)
                if whole:
                    exchange.close()
                raise status_error(exchange.provider, response.status, exchange.reply_body if whole else b"")
            if stream and response.content_type == "text/event-stream":
                exchange.events = SSEStream(exchange, response)
                return exchange.events
            exchange.reply_body, whole = await _read_up_to(response, self._max_response)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            exchange.close()
            raise _unreachable(exc) from exc
        if whole:
            exchange.close()
            return LazyJson(exchange.reply_body)
        return LazyJson(b"")  # too large to parse: relayed as it comes, no response attributes
