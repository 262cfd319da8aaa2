"""The side-car's HTTP server (aiohttp): one handler that routes a request, runs it through the
in-process call path (``llm.call.invoke_async``: fixer, sampler, breaker, span) with the upstream
as the "library call", and relays the answer, streams event by event as they arrive.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
from opentelemetry import context as otel_context
from opentelemetry import propagate
from yarl import URL

from .. import failopen
from ..llm.call import invoke_async
from ..llm.server import remember
from .routes import route
from .upstream import Exchange, Upstream, UpstreamError, UpstreamUnreachable, encode_body, forward_headers

log = logging.getLogger("arc")

MAX_REQUEST_BYTES = 64 * 1024 * 1024


class _UpstreamClient:
    __slots__ = ("base_url", "__weakref__")

    def __init__(self, base_url: str) -> None:
        self.base_url = URL(base_url)


class _UpstreamEndpoint:
    """What ``llm.call`` reads ``server.address``/``server.port`` from for an SDK resource (its
    client's ``base_url``, ``llm/server.py``): here the upstream the proxy sends to."""

    __slots__ = ("client", "__weakref__")

    def __init__(self, base_url: str) -> None:
        self.client = _UpstreamClient(base_url)
        remember(self, self.client)


def _error(status: int, provider: str, message: str, kind: str) -> web.Response:
    """An error in the provider's own body shape, so SDKs and clients show its message."""
    if provider == "anthropic":
        body = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    return web.json_response(body, status=status)


class ProxyApp:
    """Routing, auth and relaying; the call path does the rest."""

    def __init__(self, openai_base: str, anthropic_base: str, upstream: Upstream, token: str | None = None,
                 enabled: bool = True, body_timeout: float | None = None) -> None:
        self.openai_base = openai_base.rstrip("/")
        self.anthropic_base = anthropic_base.rstrip("/")
        self.upstream = upstream
        self.token = token
        self.enabled = enabled  # False with ARC_DISABLE: a plain reverse proxy
        self.body_timeout = body_timeout  # a body slower than this is refused (408): no slowloris
        self._endpoints = {"openai": _UpstreamEndpoint(self.openai_base),
                           "anthropic": _UpstreamEndpoint(self.anthropic_base)}

    def build(self, max_request_bytes: int = MAX_REQUEST_BYTES) -> web.Application:
        app = web.Application(client_max_size=max_request_bytes)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)
        return app

    async def _start(self, _app) -> None:
        await self.upstream.start()

    async def _stop(self, _app) -> None:
        await self.upstream.stop()

    def _authorized(self, request: web.Request) -> bool:
        if self.token is None:
            return True
        presented = request.headers.get("Proxy-Authorization", "")
        scheme, _, value = presented.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token.encode())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return _error(401, "openai", "arc proxy: missing or wrong 'Proxy-Authorization: Bearer <token>'",
                          "authentication_error")
        r = route(request.method, request.path, request.headers, self.openai_base, self.anthropic_base)
        if r is None:
            return _error(404, "openai", f"arc proxy: no OpenAI (/v1/...) or Anthropic API at {request.path}",
                          "not_found")
        try:
            body = await asyncio.wait_for(request.read(), self.body_timeout)
        except asyncio.TimeoutError:
            slow = _error(408, r.provider, f"arc proxy: request body not received within {self.body_timeout:g} s "
                          "(arc proxy --client-timeout)", "request_timeout")
            slow.force_close()  # the rest of the body is never read: the connection cannot be reused
            return slow
        except web.HTTPRequestEntityTooLarge:
            return _error(413, r.provider, f"arc proxy: request body larger than {request.client_max_size} bytes "
                          "(arc proxy --max-request-mb)", "request_too_large")
        url = URL(r.url + ("?" + request.query_string if request.query_string else ""), encoded=True)
        exchange = Exchange(r.provider, request.method, url, forward_headers(request.headers), body)
        kwargs = _json_object(body) if r.spec is not None and self.enabled else None
        try:
            if kwargs is None:  # not an LLM call Arc knows, or not JSON: forwarded untouched, no span
                result = await self.upstream.send(exchange, body, stream=True)
            else:
                result = await self._call(r.spec, exchange, kwargs, body, request.headers)
        except UpstreamError:
            return await _relay(request, exchange, None)
        except UpstreamUnreachable as exc:
            log.warning("arc proxy: %s %s: %s", request.method, request.path, exc)
            return _error(502, r.provider, f"arc proxy: upstream {r.provider} API not reachable ({exc})",
                          "bad_gateway")
        except Exception as exc:  # e.g. a header value the client library refuses: a clear 502, counted
            failopen.record("proxy_forward", exc)
            exchange.close()
            return _error(502, r.provider, f"arc proxy: could not forward the request ({type(exc).__name__})",
                          "bad_gateway")
        return await _relay(request, exchange, result)

    async def _call(self, spec, exchange: Exchange, kwargs: dict, body: bytes, headers: Any) -> Any:
        """The in-process call path, with the upstream request as the library call: the fixer sees
        the JSON body as the SDK's keyword arguments and the span is the one an SDK call gets, the
        child of the client's trace context when it sent one (``traceparent``)."""
        stream = kwargs.get("stream") is True

        async def send(**sent):
            data = body if sent == kwargs else encode_body(sent)
            return await self.upstream.send(exchange, data, stream)

        token = otel_context.attach(propagate.extract(headers)) if "traceparent" in headers else None
        try:
            return await invoke_async(spec, send, self._endpoints[exchange.provider], (), kwargs)
        finally:
            if token is not None:
                otel_context.detach(token)


def _json_object(body: bytes) -> dict | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if type(value) is dict else None


async def _relay(request: web.Request, exchange: Exchange, result: Any) -> web.StreamResponse:
    """The upstream's answer to the client: a complete body at once, a stream event by event."""
    if exchange.events is None and exchange.rest is None:
        return web.Response(status=exchange.status, headers=exchange.reply_headers, body=exchange.reply_body)
    response = web.StreamResponse(status=exchange.status, headers=exchange.reply_headers)
    try:
        await response.prepare(request)
        if exchange.events is not None:
            await _relay_events(response, result if hasattr(result, "__anext__") else exchange.events)
        else:
            await _relay_body(response, exchange)
        await response.write_eof()
    except ConnectionResetError:  # the client went away: upstream reading stops (exchange closed below)
        pass
    except UpstreamUnreachable as exc:  # the upstream broke off mid-answer: so does the client's answer
        log.warning("arc proxy: %s %s: %s", request.method, request.path, exc)
        if request.transport is not None:
            request.transport.abort()
    finally:
        exchange.close()
    return response


async def _relay_body(response: web.StreamResponse, exchange: Exchange) -> None:
    """A body too large to hold: what was read, then the rest as it comes."""
    await response.write(exchange.reply_body)
    try:
        async for piece in exchange.rest.content.iter_any():
            await response.write(piece)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise UpstreamUnreachable(f"upstream answer broke off: {type(exc).__name__}") from exc


async def _relay_events(response: web.StreamResponse, events: Any) -> None:
    """Each event goes out as soon as its last byte came in; closing the stream ends its span."""
    try:
        async for event in events:
            await response.write(event.raw)
    finally:
        try:
            await events.close()
        except Exception as exc:
            failopen.record("proxy_stream_close", exc)
