"""The server side of ``Publish``: a client-streamed header + bytes, bounded and checked before the
registry stores anything.

The header is the manifest the client built (numbered one above the latest, maybe signed). It must
parse as the registry's manifests do, name valid kind/name/channel, belong to the key's tenant, fit
the size limit and, when the server has a trust key, carry a signature that verifies with it (a
server with a trust key stores signed versions only; one without refuses signed ones it cannot
check). The bytes go to a private spool file; their total and chunk count are capped and the whole
upload must finish in ``timeout_s``; ``Registry.accept`` then checks size and sha256 (a folder:
the deterministic tar, unpacked with ``archive.unpack``'s bounds, then its folder digest) and
stores the version without ever replacing one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import tempfile
import time
from typing import Optional, Tuple

import grpc

from ..registry import Registry, names, signing
from ..registry.errors import ArtifactRejected, RegistryError, VersionTaken
from ..registry.manifest import Manifest, parse
from . import archive

MIN_AVG_CHUNK = 64 << 10
"""Chunk count bound: an upload of N bytes may come in at most N / 64 KiB + 16 messages."""


@dataclasses.dataclass(frozen=True)
class Limits:
    max_bytes: int = names.MAX_ARTIFACT_BYTES
    timeout_s: float = 3600.0
    concurrent: int = 4
    trust_key: Optional[object] = None
    """Ed25519 public key (``signing.load_public``) every published manifest must be signed with."""


def wire_bound(man: Manifest) -> int:
    """Most bytes the upload of ``man`` may take: its size, or its tar for a folder."""
    return archive.max_download(man.size) if man.artifact_type == "dir" else man.size


def check_header(man: Manifest, tenant: str, channel: str, limits: Limits) -> Tuple[grpc.StatusCode, str]:
    """(status, problem) of a publish header, (OK, "") when it may be received."""
    try:
        names.check_kind(man.kind)
        names.check_name(man.name)
        if channel:
            names.check_channel(channel)
        if man.parent is not None:
            names.check_version(man.parent)
    except RegistryError as exc:
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if man.tenant != tenant:
        return grpc.StatusCode.PERMISSION_DENIED, (f"{man.ref}: the manifest names tenant {man.tenant!r}; this "
                                                   f"API key publishes for tenant {tenant!r} only")
    if man.size > limits.max_bytes:
        return grpc.StatusCode.INVALID_ARGUMENT, (f"{man.ref}: {man.size} bytes is over this server's publish "
                                                  f"limit of {limits.max_bytes} bytes")
    if man.signature and limits.trust_key is None:
        return grpc.StatusCode.FAILED_PRECONDITION, (f"{man.ref}: signed, but this server has no trust key to "
                                                     "check it with (arc serve --trust-key)")
    if limits.trust_key is not None:
        try:
            signing.verify(limits.trust_key, man.signed_payload(), man.signature, man.ref)
        except ArtifactRejected as exc:
            return grpc.StatusCode.PERMISSION_DENIED, str(exc)
    return grpc.StatusCode.OK, ""


async def _next(iterator, deadline: float, context):
    left = deadline - time.monotonic()
    try:
        return await asyncio.wait_for(iterator.__anext__(), max(left, 0.001))
    except StopAsyncIteration:
        return None
    except asyncio.TimeoutError:
        await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "publish took longer than the server allows")


async def receive(request_iterator, context, registry: Registry, limits: Limits,
                  spool_root: str) -> Tuple[Manifest, str]:
    """Receive, check and store one publish; aborts the call with one clear line on any problem."""
    deadline = time.monotonic() + limits.timeout_s
    iterator = request_iterator.__aiter__()
    first = await _next(iterator, deadline, context)
    if first is None or first.WhichOneof("part") != "header":
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "publish: the first message must be the header")
    try:
        man = parse(first.header.manifest_json, "publish header")
    except ArtifactRejected as exc:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    channel = first.header.channel
    code, problem = check_header(man, registry.tenant or "", channel, limits)
    if code != grpc.StatusCode.OK:
        await context.abort(code, problem)
    try:
        versions = await asyncio.to_thread(registry.versions, man.kind, man.name)
    except RegistryError as exc:
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
    expected = (versions[-1] + 1) if versions else 1
    if man.version != expected:  # fail before the bytes move; checked again under the lock
        await context.abort(grpc.StatusCode.ABORTED, f"{man.ref}: the next version of {man.kind}/{man.name} is "
                                                     f"{expected}; publish again")
    os.makedirs(os.path.dirname(spool_root), mode=0o700, exist_ok=True)  # the registry root: private
    os.makedirs(spool_root, mode=0o700, exist_ok=True)
    work = tempfile.mkdtemp(prefix="upload-", dir=spool_root)
    try:  # the upload folder is gone before the client hears the outcome
        body = os.path.join(work, "body")
        code, problem = await _receive_bytes(iterator, deadline, body, wire_bound(man), man.ref)
        if code == grpc.StatusCode.OK:
            code, problem = await asyncio.to_thread(_store, registry, man, body, work, channel or None)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    if code != grpc.StatusCode.OK:
        await context.abort(code, problem)
    return man, channel


async def _receive_bytes(iterator, deadline: float, path: str, bound: int, where: str) -> Tuple[grpc.StatusCode, str]:
    max_chunks = bound // MIN_AVG_CHUNK + 16
    total = chunks = 0
    with open(path, "wb") as fh:
        while True:
            try:
                msg = await asyncio.wait_for(iterator.__anext__(), max(deadline - time.monotonic(), 0.001))
            except StopAsyncIteration:
                return grpc.StatusCode.OK, ""
            except asyncio.TimeoutError:
                return grpc.StatusCode.DEADLINE_EXCEEDED, f"{where}: publish took longer than the server allows"
            if msg.WhichOneof("part") != "data":
                return grpc.StatusCode.INVALID_ARGUMENT, f"{where}: a second header in one publish"
            chunks += 1
            total += len(msg.data)
            if total > bound:
                return grpc.StatusCode.INVALID_ARGUMENT, f"{where}: more bytes than the manifest's size ({bound})"
            if chunks > max_chunks:
                return grpc.StatusCode.INVALID_ARGUMENT, (f"{where}: more than {max_chunks} chunks (send chunks of "
                                                          "64 KiB or more)")
            await asyncio.to_thread(fh.write, msg.data)


def _store(registry: Registry, man: Manifest, body: str, work: str,
           channel: Optional[str]) -> Tuple[grpc.StatusCode, str]:
    try:
        if man.artifact_type == "dir":
            folder = os.path.join(work, "unpacked")
            archive.unpack(body, folder, man.size, man.ref)
            body = folder
        registry.accept(man, body, channel)
    except VersionTaken as exc:
        return grpc.StatusCode.ABORTED, str(exc)
    except ArtifactRejected as exc:
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    except RegistryError as exc:
        return grpc.StatusCode.FAILED_PRECONDITION, str(exc)
    except OSError as exc:
        return grpc.StatusCode.INTERNAL, f"{man.ref}: cannot store it ({exc.strerror or exc})"
    return grpc.StatusCode.OK, ""
