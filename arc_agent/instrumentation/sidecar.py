"""``ARC_SIDECAR``: send the SDK clients' HTTP to ``arc proxy`` instead of intercepting in-process.

With ``ARC_SIDECAR=unix:///path/arc.sock`` (or ``http://127.0.0.1:PORT``) the openai/anthropic
integrations wrap the client constructors (``OpenAI``, ``AsyncOpenAI``, ``Anthropic``,
``AsyncAnthropic``) instead of the resource methods: each new client gets the SDK's public
``base_url=`` (the side-car) and ``http_client=`` (the SDK's ``DefaultHttpxClient`` over a
transport to the socket), so the side-car fixes and reports every call once and nothing is done
in-process. The transport adds the current trace context (``traceparent``, so the side-car's span
is the child the in-process span would be) and, with ``ARC_SIDECAR_TOKEN_FILE``, the side-car's
``Proxy-Authorization``. A client built with its own ``http_client`` (or a subclass such as
``AzureOpenAI``) is left alone and goes direct, logged once.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any, Callable, NamedTuple
from urllib.parse import urlsplit

from .. import settings
from .base import unwrap, wrap

log = logging.getLogger("arc")

ENV = "ARC_SIDECAR"
TOKEN_ENV = "ARC_SIDECAR_TOKEN_FILE"
_UNIX_HOST = "http://arc-sidecar"  # the host part of URLs sent over the socket (never resolved)
_warned: set = set()


class Sidecar(NamedTuple):
    origin: str  # http(s)://host:port, or _UNIX_HOST for a socket
    uds: str | None  # the socket path


def configured(environ=os.environ) -> Sidecar | None:
    """The side-car ``ARC_SIDECAR`` names, or None (unset, or a bad value: logged, in-process applies)."""
    raw = settings.text(ENV, environ) or ""
    if not raw:
        return None
    if len(raw) > 4096:
        return _bad(raw[:40] + "…", "longer than 4096 characters")
    parts = urlsplit(raw)
    if parts.scheme == "unix":
        path = parts.path
        if parts.netloc or not path.startswith("/"):
            return _bad(raw, "expected unix:///absolute/path")
        return Sidecar(_UNIX_HOST, path)
    if parts.scheme in ("http", "https") and parts.hostname and not parts.username and parts.path in ("", "/"):
        return Sidecar(f"{parts.scheme}://{parts.netloc}", None)
    return _bad(raw, "expected unix:///path/arc.sock or http(s)://host:port")


def _bad(value: str, why: str) -> None:
    if ENV not in _warned:
        _warned.add(ENV)
        log.error("arc: %s=%r: %s; SDK calls are intercepted in-process instead", ENV, value, why)
    return None


def _token(environ=os.environ) -> str | None:
    path = settings.text(TOKEN_ENV, environ)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(4096).strip() or None
    except OSError as exc:
        log.error("arc: %s=%s cannot be read (%s); calls go to the side-car without a token", TOKEN_ENV, path,
                  exc.strerror)
        return None


_transports: dict = {}  # (httpx module, is_async) -> transport class


def _transport_class(httpx: Any, is_async: bool) -> type:
    """A transport that adds the side-car's headers, then hands over to the library's own."""
    cls = _transports.get((httpx, is_async))
    if cls is None:
        cls = _transports[(httpx, is_async)] = _make_transport_class(httpx, is_async)
    return cls


def _make_transport_class(httpx: Any, is_async: bool) -> type:
    from opentelemetry import propagate

    if is_async:
        class AsyncSidecarTransport(httpx.AsyncBaseTransport):
            def __init__(self, inner: Any, headers: dict) -> None:
                self._inner, self._headers = inner, headers

            async def handle_async_request(self, request):
                request.headers.update(self._headers)
                propagate.inject(request.headers)
                return await self._inner.handle_async_request(request)

            async def aclose(self) -> None:
                await self._inner.aclose()

        return AsyncSidecarTransport

    class SidecarTransport(httpx.BaseTransport):
        def __init__(self, inner: Any, headers: dict) -> None:
            self._inner, self._headers = inner, headers

        def handle_request(self, request):
            request.headers.update(self._headers)
            propagate.inject(request.headers)
            return self._inner.handle_request(request)

        def close(self) -> None:
            self._inner.close()

    return SidecarTransport


def http_client(sdk: Any, sidecar: Sidecar, is_async: bool) -> Any:
    """The SDK's own default client class (its timeouts, limits, redirects) over a side-car transport."""
    cls = sdk.DefaultAsyncHttpxClient if is_async else sdk.DefaultHttpxClient
    base = next(c for c in cls.__mro__ if c.__name__ == ("AsyncClient" if is_async else "Client"))
    httpx = importlib.import_module(base.__module__.split(".")[0])  # httpx2 (openai 2/3, anthropic 1/2) or httpx
    inner_cls = httpx.AsyncHTTPTransport if is_async else httpx.HTTPTransport
    inner = inner_cls(uds=sidecar.uds) if sidecar.uds else inner_cls()
    token = _token()
    headers = {"Proxy-Authorization": f"Bearer {token}"} if token else {}
    return cls(transport=_transport_class(httpx, is_async)(inner, headers))


def _constructor(sdk: Any, sidecar: Sidecar, base_path: str, classes: dict) -> Callable:
    def init(wrapped, instance, args, kwargs):
        is_async = classes.get(type(instance))
        if is_async is None or kwargs.get("http_client") is not None:
            name = type(instance).__name__
            if name not in _warned:
                _warned.add(name)
                log.warning("arc: %s with its own http_client (or a subclass) is not routed through the side-car "
                            "%s; its calls go direct, without Arc", name, sidecar.uds or sidecar.origin)
            return wrapped(*args, **kwargs)
        try:
            kwargs = dict(kwargs, base_url=sidecar.origin + base_path,
                          http_client=http_client(sdk, sidecar, is_async))
        except Exception as exc:  # fail open: the client is built as the app asked
            from .. import failopen

            failopen.record("sidecar_client", exc)
        return wrapped(*args, **kwargs)

    return init


def route_clients(module_name: str, sync_cls: str, async_cls: str, base_path: str) -> bool:
    """With ``ARC_SIDECAR`` set: wrap the SDK's client constructors and return True (the caller then
    patches nothing else); else False."""
    sidecar = configured()
    if sidecar is None:
        return False
    sdk = importlib.import_module(module_name)
    classes = {getattr(sdk, sync_cls): False, getattr(sdk, async_cls): True}
    init = _constructor(sdk, sidecar, base_path, classes)
    for cls in classes:
        wrap(cls, "__init__", init)
    return True


def unroute_clients(module_name: str, sync_cls: str, async_cls: str) -> None:
    sdk = importlib.import_module(module_name)
    for name in (sync_cls, async_cls):
        unwrap(getattr(sdk, name), "__init__")
