"""Operator calls to a control server: ``arc registry … --url`` and ``arc fleet``.

The API key comes from ``ARC_API_KEY`` and the CA from ``ARC_CONTROL_CA``; errors are one line
(the server's message), exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Optional

from .. import settings
from .config import ConfigError, ControlConfig, parse_endpoint

TIMEOUT = 10.0


def connect(url: str) -> tuple:
    """(stub, metadata, config) for ``url`` (``grpc://``, ``grpcs://`` or ``host:port``)."""
    from .gen import control_pb2_grpc as pb_grpc

    ca = settings.text("ARC_CONTROL_CA")
    target, secure = parse_endpoint(url, ca)
    conf = ControlConfig(target=target, secure=secure, ca_file=ca, api_key=settings.text("ARC_API_KEY"))
    return pb_grpc.ControlStub(conf.channel()), conf.metadata, conf


def _call(url: str, method: str, request: Any) -> Any:
    import grpc

    stub, metadata, conf = connect(url)
    try:
        return getattr(stub, method)(request, metadata=metadata, timeout=TIMEOUT)
    except grpc.RpcError as exc:
        hint = " (set ARC_API_KEY)" if exc.code() == grpc.StatusCode.UNAUTHENTICATED and not metadata else ""
        raise RemoteError(f"{conf.describe()}: {exc.code().name}: {exc.details()}{hint}") from None


class RemoteError(RuntimeError):
    pass


def run_registry(args: argparse.Namespace) -> int:
    """``arc registry list|promote|rollback --url URL`` through the service."""
    from google.protobuf.json_format import MessageToDict

    from .gen import control_pb2 as pb

    action = args.registry_command
    try:
        if action == "list":
            reply = _call(args.url, "List", pb.ListRequest(kind=args.kind or ""))
            rows = [MessageToDict(a, preserving_proto_field_name=True) for a in reply.artifacts]
            text = "\n".join(f"{a.kind}/{a.name}: {a.versions} version(s), latest {a.latest}"
                             + "".join(f", {ch}={v}" for ch, v in sorted(a.channels.items()))
                             for a in reply.artifacts) or f"(no artifacts for tenant {reply.tenant})"
            return _print(args, {"tenant": reply.tenant, "artifacts": rows}, text)
        if action == "promote":
            reply = _call(args.url, "Promote", pb.PromoteRequest(
                kind=args.kind, name=args.name, version=args.version or 0, channel=args.channel,
                from_channel=(args.from_channel or "canary") if args.version is None else ""))
        elif action == "rollback":
            reply = _call(args.url, "Rollback", pb.RollbackRequest(kind=args.kind, name=args.name,
                                                                   channel=args.channel))
        else:
            print(f"error: 'arc registry {action}' works on a local registry only (no --url)", file=sys.stderr)
            return 1
    except (RemoteError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    verb = "rolled back to version" if action == "rollback" else "->"
    return _print(args, MessageToDict(reply, preserving_proto_field_name=True),
                  f"{reply.kind}/{reply.name}@{reply.channel} {verb} {reply.version} (tenant {reply.tenant})")


def fleet(url: str) -> Any:
    from .gen import control_pb2 as pb

    return _call(url, "Fleet", pb.FleetRequest())


def _print(args: argparse.Namespace, data: Any, text: str) -> int:
    print(json.dumps(data, indent=2, sort_keys=True) if getattr(args, "json", False) else text)
    return 0


def describe_agent(record: Any, now: Optional[float] = None) -> str:
    now = time.time() if now is None else now
    status = record.status
    versions = ", ".join(f"{f.kind}/{f.name}@{f.channel}={f.version}" for f in status.in_use) or "-"
    health = "breaker OPEN" if status.breaker_open else "ok"
    if status.last_error:
        health = f"error: {status.last_error[:120]}"
    seen = f"{now - record.last_report_unix:.0f} s ago" if record.last_report_unix else "never"
    state = "connected" if record.connected else "gone"
    return (f"{record.instance_id:28} {record.service_name[:20]:20} arc {record.arc_version:8} {state:9} "
            f"versions {versions}; {health}; last report {seen}")
