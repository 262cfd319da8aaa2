"""``arc proxy``: run the side-car until Ctrl-C or SIGTERM.

Listens on a unix socket (mode 0600, or 0660 for a shared group) or on TCP; beyond loopback TCP
needs TLS and a token, as the collector's ports do. Arc's settings (``ARC_PATTERNS``, ``OTEL_*``,
``ARC_SAMPLE_*``, ``ARC_BREAKER_*`` …) apply to the proxy as to an instrumented app.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import stat
import sys
from typing import Any
from urllib.parse import urlsplit

_SOCKET_MODES = {"600": 0o600, "660": 0o660}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "OpenAI- and Anthropic-compatible reverse proxy running Arc's fixer and spans for any client. "
        "Clients point their base URL at it (OpenAI: http://HOST:PORT/v1, Anthropic: http://HOST:PORT) and "
        "keep their own API keys, which are forwarded upstream and never recorded. Python apps: set "
        "ARC_SIDECAR=unix:///PATH (or http://HOST:PORT) under arc-instrument to route the SDKs through it.")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--unix", metavar="PATH", help="unix socket to listen on")
    where.add_argument("--listen", metavar="HOST:PORT", help="TCP address to listen on (port 0: a free one)")
    parser.add_argument("--upstream", required=True, metavar="URL",
                        help="OpenAI API base URL as the SDK takes it, e.g. https://api.openai.com/v1")
    parser.add_argument("--anthropic-upstream", metavar="URL",
                        help="Anthropic API base URL, e.g. https://api.anthropic.com (default: --upstream "
                             "without its trailing /v1)")
    parser.add_argument("--socket-mode", choices=sorted(_SOCKET_MODES), default="600",
                        help="unix socket file mode: 600 (owner only, default) or 660 (owner's group too)")
    parser.add_argument("--tls-cert", help="serve TLS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="private key of --tls-cert (PEM)")
    parser.add_argument("--auth-token-file", help="file (mode 600) holding the token clients must send as "
                        "'Proxy-Authorization: Bearer <token>'; required, with --tls-cert, beyond loopback")
    parser.add_argument("--max-request-mb", type=float, default=64.0, help="largest request body (default 64)")
    parser.add_argument("--client-timeout", type=float, default=120.0, metavar="S",
                        help="close a client connection silent this long before a request, or whose request "
                             "body takes longer to arrive (default 120; slow clients cannot pile up)")
    parser.add_argument("--upstream-connect-timeout", type=float, default=10.0, metavar="S",
                        help="seconds to connect upstream before answering 502 (default 10)")
    parser.add_argument("--upstream-read-timeout", type=float, default=600.0, metavar="S",
                        help="seconds of upstream silence before giving up on an answer (default 600)")


def check_upstream(url: str, flag: str) -> str:
    """An upstream base URL, checked: http(s), a host, no credentials (clients bring their own keys)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{flag} {url!r}: expected an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{flag}: credentials in the URL are not accepted (clients send their own API keys)")
    if parts.query or parts.fragment:
        raise ValueError(f"{flag} {url!r}: a base URL takes no query or fragment")
    return url.rstrip("/")


def bind_unix(path: str, mode: int) -> socket.socket:
    """A listening-ready unix socket at ``path`` with ``mode``, never briefly wider (umask at bind).
    A stale socket file is replaced; a live one, or any other file, is refused."""
    if os.path.lexists(path):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise ValueError(f"--unix {path}: exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)  # stale: nobody listens
        else:
            raise ValueError(f"--unix {path}: another process is listening there")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o777 & ~mode)
    try:
        sock.bind(path)
    except OSError as exc:
        sock.close()
        raise ValueError(f"--unix {path}: cannot bind: {exc}") from exc
    finally:
        os.umask(old)
    os.chmod(path, mode)
    return sock


def bind_tcp(listen: str) -> socket.socket:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host, int(port)), family=family, backlog=1024)
    except (OSError, ValueError, OverflowError) as exc:  # OverflowError: a port above 65535
        raise ValueError(f"--listen {listen}: cannot listen: {exc}") from exc


def _ssl_context(cert: str | None, key: str | None):
    if not cert:
        return None
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def run(args: Any) -> int:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("arc proxy: needs the 'proxy' extra: pip install 'arc-runtime[proxy]' (aiohttp)", file=sys.stderr)
        return 2
    named = any(item.partition("=")[0].strip() == "service.name"
                for item in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","))
    if not named:  # OTEL_SERVICE_NAME would win over the user's OTEL_RESOURCE_ATTRIBUTES service.name
        os.environ.setdefault("OTEL_SERVICE_NAME", "arc-proxy")
    from ..collector.cli import check_exposure, read_token

    try:
        openai_base = check_upstream(args.upstream, "--upstream")
        anthropic_base = check_upstream(args.anthropic_upstream or _without_v1(openai_base), "--anthropic-upstream")
        if bool(args.tls_cert) != bool(args.tls_key):
            raise ValueError("--tls-cert and --tls-key go together")
        token = read_token(args.auth_token_file) if args.auth_token_file else None
        if args.listen:
            check_exposure(args.listen, tls=bool(args.tls_cert), token=bool(token))
        if args.max_request_mb <= 0:
            raise ValueError("--max-request-mb must be positive")
        ssl_context = _ssl_context(args.tls_cert, args.tls_key)
    except (ValueError, OSError) as exc:
        print(f"arc proxy: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(args, openai_base, anthropic_base, token, ssl_context))
    except ValueError as exc:
        print(f"arc proxy: {exc}", file=sys.stderr)
        return 2


def _without_v1(url: str) -> str:
    return url[:-3] if url.endswith("/v1") else url


async def _serve(args: Any, openai_base: str, anthropic_base: str, token: str | None, ssl_context) -> int:
    from aiohttp import web

    from .. import hook, runtime
    from .server import ProxyApp
    from .upstream import Upstream

    enabled = not hook.disabled_by_env()
    rt = runtime.get_runtime()
    if enabled:
        from ..telemetry import tracing

        rt.activate()  # Arc's log, patterns, guards (breaker, sampling, metrics), exporter
        tracing.get_tracer()  # built now, not by the first request
    upstream = Upstream(args.upstream_connect_timeout, args.upstream_read_timeout)
    proxy = ProxyApp(openai_base, anthropic_base, upstream, token, enabled, body_timeout=args.client_timeout)
    runner = web.AppRunner(proxy.build(int(args.max_request_mb * 1024 * 1024)), access_log=None,
                           handle_signals=False, keepalive_timeout=args.client_timeout,
                           lingering_time=min(args.client_timeout, 10.0))  # reading what a refused body still sends
    await runner.setup()
    try:
        if args.unix:
            sock = bind_unix(args.unix, _SOCKET_MODES[args.socket_mode])
            site = web.SockSite(runner, sock, ssl_context=ssl_context, backlog=1024)
            await site.start()
            where = f"unix://{os.path.abspath(args.unix)}"
        else:
            sock = bind_tcp(args.listen)
            site = web.SockSite(runner, sock, ssl_context=ssl_context, backlog=1024)
            await site.start()
            host = args.listen.rpartition(":")[0]
            where = f"{'https' if ssl_context else 'http'}://{host}:{sock.getsockname()[1]}"
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"arc proxy: listening on {where} -> openai {openai_base}, anthropic {anthropic_base}"
              f"{'' if enabled else ' (ARC_DISABLE: no fixes, no spans)'}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
        if args.unix and os.path.exists(args.unix) and stat.S_ISSOCK(os.lstat(args.unix).st_mode):
            os.unlink(args.unix)
        if enabled:
            rt.shutdown()  # bounded flush of the last spans
    return 0
