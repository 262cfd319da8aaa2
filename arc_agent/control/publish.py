"""The client side of ``Publish`` (``arc registry publish … --url``): build the manifest the server will
store, sign it, stream it with the bytes.

The signature covers the version number and the tenant, so the manifest is built for what the
server says comes next (``List`` for this name; the tenant is the API key's). A folder is sent as
the same deterministic tar ``Fetch`` serves. A publish that loses the number to another one
(ABORTED) is rebuilt for the next number, at most ``ATTEMPTS`` times.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from typing import Any, BinaryIO, Iterator, Tuple

from ..registry import channels, names
from ..registry.errors import RegistryError
from ..registry.manifest import Manifest, digest
from ..registry.store import entry_name
from . import archive

CHUNK = 1 << 20
ATTEMPTS = 5
MIN_RATE = 1 << 20
"""Bytes per second the deadline assumes (plus a minute), so a big upload is not cut off."""


def _body(path: str, artifact_type: str) -> BinaryIO:
    if artifact_type != "dir":
        return open(path, "rb")
    spool = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)
    archive.pack(path, spool)
    return spool


def _messages(man: Manifest, channel: str, body: BinaryIO) -> Iterator[Any]:
    from .gen import control_pb2 as pb

    yield pb.PublishChunk(header=pb.PublishHeader(manifest_json=man.to_json(), channel=channel))
    body.seek(0)
    while True:
        data = body.read(CHUNK)
        if not data:
            return
        yield pb.PublishChunk(data=data)


def build(args: argparse.Namespace, tenant: str, latest: int, found: tuple) -> Manifest:
    """The manifest of the version after ``latest``, signed with ``--sign-key`` when given."""
    sha, size, artifact_type = found
    man = Manifest(kind=args.kind, name=args.name, version=latest + 1, artifact=entry_name(args.path),
                   artifact_type=artifact_type, sha256=sha, size=size,
                   parent=args.parent if args.parent is not None else (latest or None),
                   created=channels.now_iso(), job_id=args.job_id, metrics=dict(args.metrics or {}), tenant=tenant)
    if args.sign_key:
        from ..registry.signing import signer

        man = dataclasses.replace(man, signature=signer(args.sign_key)(man.signed_payload()))
    return man


def publish(args: argparse.Namespace, stub: Any, metadata: tuple) -> Tuple[Manifest, Any]:
    """Publish ``args.path`` through ``stub`` (a ``ControlStub``): (the stored manifest, the artifact's
    ``ArtifactInfo`` after it). The server's refusal is the ``grpc.RpcError`` raised."""
    import grpc

    from .gen import control_pb2 as pb

    names.check_kind(args.kind)
    names.check_name(args.name)
    if args.channel:
        names.check_channel(args.channel)
    try:
        found = digest(args.path)
    except FileNotFoundError:
        raise RegistryError(f"{args.path}: no such file or directory") from None
    timeout = 60.0 + found[1] / MIN_RATE
    with _body(args.path, found[2]) as body:
        for attempt in range(ATTEMPTS):
            try:
                listed = stub.List(pb.ListRequest(kind=args.kind, name=args.name), metadata=metadata, timeout=30)
                latest = listed.artifacts[0].latest if listed.artifacts else 0
                man = build(args, listed.tenant, latest, found)
                return man, stub.Publish(_messages(man, args.channel or "", body), metadata=metadata, timeout=timeout)
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.ABORTED or attempt == ATTEMPTS - 1:
                    raise
    raise AssertionError("unreachable")
