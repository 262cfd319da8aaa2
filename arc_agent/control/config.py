"""Where the control server is and how to talk to it: endpoint, TLS, API key, identity.

``ARC_CONTROL_ENDPOINT`` is ``grpc://host:port`` (plaintext), ``grpcs://host:port`` or
``host:port`` (TLS when ``ARC_CONTROL_CA`` is set). The API key (``ARC_API_KEY``) travels as
``authorization: Bearer …`` metadata and is never logged.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

from .. import settings

MAX_MESSAGE = 4 << 20
KEEPALIVE = [("grpc.keepalive_time_ms", 20_000), ("grpc.keepalive_timeout_ms", 10_000),
             ("grpc.max_receive_message_length", MAX_MESSAGE)]


class ConfigError(ValueError):
    """A control setting that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class ControlConfig:
    target: str
    secure: bool
    ca_file: Optional[str] = None
    api_key: Optional[str] = field(default=None, repr=False)
    trust_key: Optional[str] = None
    instance_id: str = ""
    service_name: str = ""
    report_s: float = 30.0

    @property
    def metadata(self) -> Tuple[Tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.api_key}"),) if self.api_key else ()

    def describe(self) -> str:
        return f"{'grpcs' if self.secure else 'grpc'}://{self.target}"

    def channel(self, aio: bool = False):
        """A gRPC channel to the server (``grpc.aio`` with ``aio``)."""
        import grpc

        mod = grpc.aio if aio else grpc
        if not self.secure:
            return mod.insecure_channel(self.target, options=KEEPALIVE)
        root = None
        if self.ca_file:
            try:
                with open(self.ca_file, "rb") as fh:
                    root = fh.read(1 << 20)
            except OSError as exc:
                raise ConfigError(f"ARC_CONTROL_CA={self.ca_file}: {exc.strerror or exc}") from None
        return mod.secure_channel(self.target, grpc.ssl_channel_credentials(root_certificates=root), options=KEEPALIVE)


def parse_endpoint(raw: str, ca_file: Optional[str] = None, what: str = "ARC_CONTROL_ENDPOINT") -> Tuple[str, bool]:
    """(host:port, secure) of an endpoint setting; ConfigError naming ``what`` (the variable or option
    the user wrote it in) if it is not one."""
    text = raw.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = ("grpcs" if ca_file else "grpc"), text
    if scheme not in ("grpc", "grpcs", "http", "https"):
        raise ConfigError(f"{what}={raw!r}: scheme must be grpc:// or grpcs://")
    if "@" in rest or "/" in rest.rstrip("/"):
        raise ConfigError(f"{what}: expected host:port (no credentials or path)")
    host, colon, port = rest.rstrip("/").rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{what}={raw!r}: expected host:port")
    return f"{host}:{port}", scheme in ("grpcs", "https")


def from_env(environ: Optional[Mapping[str, str]] = None) -> Optional[ControlConfig]:
    """The agent's control settings, or None when ``ARC_CONTROL_ENDPOINT`` is not set."""
    env = os.environ if environ is None else environ
    raw = settings.text("ARC_CONTROL_ENDPOINT", env) or ""
    if not raw:
        return None
    ca = settings.text("ARC_CONTROL_CA", env)
    target, secure = parse_endpoint(raw, ca)
    return ControlConfig(target=target, secure=secure, ca_file=ca, api_key=settings.text("ARC_API_KEY", env),
                         trust_key=settings.text("ARC_TRUST_KEY", env),
                         instance_id=(settings.text("ARC_INSTANCE_ID", env) or "")[:128] or default_instance_id(),
                         service_name=service_name(env), report_s=settings.number("ARC_CONTROL_REPORT_S", env))


def default_instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def service_name(env: Mapping[str, str]) -> str:
    name = (env.get("OTEL_SERVICE_NAME") or "").strip()
    if not name:
        for item in (env.get("OTEL_RESOURCE_ATTRIBUTES") or "").split(","):
            key, _, val = item.partition("=")
            if key.strip() == "service.name":
                name = val.strip()
    return (name or os.path.basename(sys.argv[0] if sys.argv and sys.argv[0] else "python") or "python")[:128]


def canary_bucket(instance_id: str) -> float:
    """A stable number in [0, 1) for an instance: it is in a canary share s when bucket < s."""
    return int.from_bytes(hashlib.sha256(instance_id.encode("utf-8")).digest()[:8], "big") / 2.0**64
