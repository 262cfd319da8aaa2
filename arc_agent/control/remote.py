"""Operator calls to a control server: ``arc registry … --url`` and ``arc fleet``.

``publish --url`` builds the manifest here (numbered one above the server's latest, signed with
``--sign-key``) and streams it with the bytes (``publish.py``); another publish taking that number
first makes the server answer ABORTED, and the manifest is rebuilt for the next number.

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
    target, secure = parse_endpoint(url, ca, "--url")
    conf = ControlConfig(target=target, secure=secure, ca_file=ca, api_key=settings.text("ARC_API_KEY"))
    return pb_grpc.ControlStub(conf.channel()), conf.metadata, conf


def _call(url: str, method: str, request: Any, timeout: float = TIMEOUT) -> Any:
    import grpc

    stub, metadata, conf = connect(url)
    try:
        return getattr(stub, method)(request, metadata=metadata, timeout=timeout)
    except grpc.RpcError as exc:
        raise remote_error(conf, metadata, exc) from None


def remote_error(conf: ControlConfig, metadata: tuple, exc: Any) -> RemoteError:
    import grpc

    hint = " (set ARC_API_KEY)" if exc.code() == grpc.StatusCode.UNAUTHENTICATED and not metadata else ""
    return RemoteError(f"{conf.describe()}: {exc.code().name}: {exc.details()}{hint}")


class RemoteError(RuntimeError):
    pass


def run_registry(args: argparse.Namespace) -> int:
    """``arc registry list|show|publish|promote|rollback --url URL`` through the service."""
    from google.protobuf.json_format import MessageToDict

    from ..registry.cli import list_line, show_text
    from ..registry.errors import RegistryError
    from .gen import control_pb2 as pb

    action = args.registry_command
    try:
        if action == "list":
            reply = _call(args.url, "List", pb.ListRequest(kind=args.kind or ""))
            rows = [MessageToDict(a, preserving_proto_field_name=True) for a in reply.artifacts]
            text = "\n".join(list_line(_row(a)) for a in reply.artifacts) or f"(no artifacts for tenant {reply.tenant})"
            return _print(args, {"tenant": reply.tenant, "artifacts": rows}, text)
        if action == "show":
            reply = _call(args.url, "Show", pb.ShowRequest(kind=args.kind, name=args.name, version=args.version or 0,
                                                           channel=args.channel))
            data = {"tenant": reply.tenant, "manifest": json.loads(reply.manifest_json), "verified": reply.verified,
                    "channels": {c.channel: {"version": c.version, "previous": list(c.previous), "updated": c.updated,
                                             "share": c.share if c.HasField("share") else None}
                                 for c in reply.channels}}
            return _print(args, data, show_text(data))
        if action == "publish":
            man, info = _publish(args)
            where = f" on channel {args.channel}" if args.channel else " (no channel points at it yet)"
            return _print(args, {"manifest": man.as_dict(), "artifact": MessageToDict(
                info, preserving_proto_field_name=True)}, f"published {man.ref} sha256 {man.sha256[:16]}… "
                f"{man.size} bytes through {args.url} (tenant {info.tenant}){where}")
        if action == "promote":
            reply = _call(args.url, "Promote", pb.PromoteRequest(
                kind=args.kind, name=args.name, version=args.version or 0, channel=args.channel,
                from_channel=(args.from_channel or "canary") if args.version is None else "", share=args.share))
        else:
            reply = _call(args.url, "Rollback", pb.RollbackRequest(kind=args.kind, name=args.name,
                                                                   channel=args.channel))
    except (RemoteError, ConfigError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    verb = "rolled back to version" if action == "rollback" else "->"
    share = f" (share {reply.share:g})" if reply.HasField("share") else ""
    return _print(args, MessageToDict(reply, preserving_proto_field_name=True),
                  f"{reply.kind}/{reply.name}@{reply.channel} {verb} {reply.version}{share} (tenant {reply.tenant})")


def _publish(args: argparse.Namespace) -> tuple:
    import grpc

    from .publish import publish

    stub, metadata, conf = connect(args.url)
    try:
        return publish(args, stub, metadata)
    except grpc.RpcError as exc:
        raise remote_error(conf, metadata, exc) from None


def _row(info: Any) -> dict:
    return {"kind": info.kind, "name": info.name, "versions": info.versions, "latest": info.latest,
            "channels": dict(info.channels), "shares": dict(info.shares)}


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
    state = "connected" if record.connected else "stale" if record.stale else "gone"
    return (f"{record.instance_id:28} {record.service_name[:20]:20} arc {record.arc_version:8} {state:9} "
            f"versions {versions}; {health}; last report {seen}")
