"""Where spans go: resolve the OTLP/gRPC endpoint, TLS and headers from Arc's and OTel's settings.

Precedence: ``Arc(endpoint=...)`` > ``ARC_ENDPOINT`` > ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` >
``OTEL_EXPORTER_OTLP_ENDPOINT`` > ``localhost:4317``. Schemes: ``grpc://``/``http://`` plaintext,
``grpcs://``/``https://`` TLS (CA from ``OTEL_EXPORTER_OTLP[_TRACES]_CERTIFICATE``).
Headers (``OTEL_EXPORTER_OTLP[_TRACES]_HEADERS``, ``Arc(api_key=)``) are secrets: never logged.
Credentials in the URL (``grpc://user:secret@host``) are taken out of the target and sent as
HTTP Basic ``authorization`` (unless a header sets one); anything that shows a URL uses ``redact``.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from .. import settings
from ..netutil import is_loopback

_USERINFO = re.compile(r"://[^/\s]*@")  # greedy: a password may hold an '@' too


def redact(text: str) -> str:
    """``text`` (a URL, a line naming URLs, or a bare ``user:pw@host:port``) with any
    ``user:password@`` shown as ``***@``."""
    if "@" not in text:
        return text
    if "://" not in text and not any(c.isspace() for c in text):
        return "***@" + text.rpartition("@")[2]
    return _USERINFO.sub("://***@", text)


@dataclass(frozen=True)
class Endpoint:
    target: str  # host:port for grpc
    secure: bool
    ca_file: str | None = None
    headers: tuple = field(default=(), repr=False)  # ((key, value), ...) — secret
    compression: str | None = None  # "gzip" (OTEL_EXPORTER_OTLP[_TRACES]_COMPRESSION)

    def describe(self) -> str:
        return f"{'grpcs' if self.secure else 'grpc'}://{self.target}"

    def cleartext_credentials(self) -> bool:
        """True when an ``authorization`` header would cross the network unencrypted."""
        return (not self.secure and any(k == "authorization" for k, _ in self.headers)
                and not is_loopback(self.target.rpartition(":")[0]))


class EndpointError(ValueError):
    pass


_warned: set = set()  # (variable, problem) already logged: resolve runs more than once


def _warn_once(variable: str, problem: str) -> None:
    if (variable, problem) not in _warned:
        _warned.add((variable, problem))
        logging.getLogger("arc").error("arc: %s: %s", variable, problem)


def _parse_headers(raw: str, variable: str = "OTEL_EXPORTER_OTLP_HEADERS") -> list:
    """``k1=v1,k2=v2`` (URL-encoded) as OTel reads it; an entry that is not ``KEY=VALUE`` is ignored
    and logged once by its position only (header values are secrets)."""
    out = []
    items = [item for item in raw.split(",") if item.strip()]
    for n, item in enumerate(items, 1):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            _warn_once(variable, f"entry {n} of {len(items)} is not KEY=VALUE (URL-encoded); ignored")
            continue
        out.append((unquote(key.strip()).lower(), unquote(value.strip())))
    return out


_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+")


def parse_endpoint(url: str, *, insecure_default: bool | None = None) -> tuple:
    """``(target, secure)`` from ``grpc://h:p``, ``grpcs://h:p``, ``http(s)://h:p`` or ``h:p``."""
    url = url.strip()
    if not url:
        raise EndpointError("empty endpoint")
    url = redact(url)  # every message below may show it; the credentials are read by ``userinfo``
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    scheme = scheme.lower()
    if scheme not in ("", "grpc", "grpcs", "http", "https"):
        raise EndpointError(f"endpoint {url!r}: unsupported scheme {scheme!r} (use grpc://, grpcs://)")
    rest = rest.split("/", 1)[0].rpartition("@")[2]
    if not rest:
        raise EndpointError(f"endpoint {url!r}: missing host")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        default_port = "443" if scheme in ("grpcs", "https") else "4317"
        host, port = rest, default_port
    if not 0 < int(port) < 65536:
        raise EndpointError(f"endpoint {url!r}: bad port {port}")
    if not _HOST.fullmatch(host):
        raise EndpointError(f"endpoint {url!r}: bad host {host!r} (expected grpc://host:port)")
    if scheme in ("grpcs", "https"):
        secure = True
    elif scheme in ("grpc", "http"):
        secure = False
    else:
        secure = not insecure_default if insecure_default is not None else False
    return f"{host}:{port}", secure


def userinfo(url: str) -> tuple | None:
    """(user, password) written in ``url``'s authority (percent-decoded), or None."""
    scheme, sep, rest = url.strip().partition("://")
    authority = (rest if sep else url.strip()).split("/", 1)[0]
    info, at, _ = authority.rpartition("@")
    if not at:
        return None
    user, _, password = info.partition(":")
    return unquote(user), unquote(password)


def resolve(endpoint: str | None = None, api_key: str | None = None, environ=os.environ) -> Endpoint:
    url, source = endpoint, "Arc(endpoint=)"
    for variable in ("ARC_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        if url:
            break
        found = settings.text(variable, environ) if variable == "ARC_ENDPOINT" else environ.get(variable)
        url, source = found, variable
    url = url or "grpc://localhost:4317"
    insecure_env = (environ.get("OTEL_EXPORTER_OTLP_TRACES_INSECURE")
                    or environ.get("OTEL_EXPORTER_OTLP_INSECURE"))
    insecure = None if insecure_env is None else insecure_env.strip().lower() == "true"
    try:
        target, secure = parse_endpoint(url, insecure_default=insecure)
    except EndpointError as exc:
        raise EndpointError(f"{source}: {exc}") from None
    ca_variable = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"
    ca = environ.get(ca_variable) or None
    if ca is None:
        ca_variable = "OTEL_EXPORTER_OTLP_CERTIFICATE"
        ca = environ.get(ca_variable) or None
    if ca and not os.path.isfile(ca):
        _warn_once(ca_variable, f"{ca!r} is not a file; TLS connections to the collector fail until it is")
    if ca and not url.lower().startswith(("grpc://", "http://")) and insecure is not True:
        secure = True
    headers = _parse_headers(environ.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
    headers += _parse_headers(environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS", ""),
                              "OTEL_EXPORTER_OTLP_TRACES_HEADERS")
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = environ.get(variable, "").strip().lower()
        if protocol and protocol != "grpc":
            _warn_once(variable, f"{protocol!r}: Arc sends OTLP over gRPC only; give the collector's gRPC "
                                 "endpoint (port 4317 by default)")
            break
    key = api_key or settings.text("ARC_API_KEY", environ)
    if key:
        headers.append(("authorization", f"Bearer {key}"))
    credentials = userinfo(url)
    if credentials is not None and not any(k == "authorization" for k, _ in headers):
        token = base64.b64encode(":".join(credentials).encode()).decode()
        headers.append(("authorization", f"Basic {token}"))
    return Endpoint(target=target, secure=secure, ca_file=ca, headers=tuple(headers),
                    compression=_compression(environ))


def _compression(environ) -> str | None:
    """``gzip`` as OTel's gRPC exporter takes it; ``none`` (the spec's other value) or unset: None; any
    other value is logged and sent uncompressed (the SDK's exporter would raise in the app)."""
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"):
        raw = environ.get(variable, "").strip().lower()
        if not raw:
            continue
        if raw == "gzip":
            return raw
        if raw != "none":
            _warn_once(variable, f"{raw!r} is not gzip or none; sending uncompressed")
        return None
    return None
