"""The ``Control`` service over a registry directory (``arc serve``): grpc.aio, one task per stream.

Tenant T's artifacts live in ``Registry(root, tenant=T)``; the API key of a call names T, so a
key only ever sees its own tenant's artifacts and agents. Channel moves are found by ``stat`` of
the pointer files every ``poll_s`` (so ``arc registry promote`` on the same directory works too)
and at once after a Promote/Rollback call; each subscription then sends what differs from what
it sent (or the agent said it runs), so a reconnecting agent catches up and nothing is sent twice.
Fetch streams a file artifact as it is and a folder (``models``) as a deterministic tar (``archive.py``);
Publish takes the same shapes in (``upload.py``). A stable follower is served ``canary`` when the
stable hash of its instance id falls below the canary pointer's ``share`` (else ``--canary-share``).
The fleet table (``fleetstate.py``) is flushed to disk so a restarted server still lists its agents.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tarfile
import tempfile
import time
from typing import Dict, Optional, Set, Tuple

import grpc

from ..registry import Registry, names
from ..registry.errors import ArtifactRejected, RegistryError
from . import archive, upload
from .auth import KeyRing
from .config import MAX_MESSAGE, canary_bucket
from .fleetstate import FleetTable
from .gen import control_pb2 as pb
from .gen import control_pb2_grpc as pb_grpc

log = logging.getLogger("arc.serve")

CHUNK = 1 << 20
MAX_FOLLOWS = 64
MAX_STATUS_BYTES = 64 << 10
Key = Tuple[str, str, str, str]  # tenant, kind, name, channel


def _packed(folder: str):
    """A directory artifact's deterministic tar, spooled (memory, then disk) and rewound."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)
    try:
        archive.pack(folder, spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


async def _chunks(fh):
    while True:
        data = await asyncio.to_thread(fh.read, CHUNK)
        if not data:
            return
        yield pb.Chunk(data=data)


class Subscription:
    def __init__(self, tenant: str, hello: pb.AgentHello) -> None:
        self.tenant = tenant
        self.hello = hello
        self.wake = asyncio.Event()
        self.sent: Dict[Tuple[str, str, str], Tuple[int, str]] = {
            (f.kind, f.name, f.channel): (int(f.version), "") for f in hello.follows}


class ControlService(pb_grpc.ControlServicer):
    def __init__(self, root: str, keys: KeyRing, canary_share: float = 0.0, poll_s: float = 0.25,
                 fleet: Optional[FleetTable] = None, uploads: Optional[upload.Limits] = None) -> None:
        self.root = os.path.abspath(root)
        self.keys = keys
        self.canary_share = canary_share
        self.poll_s = poll_s
        self.subs: Set[Subscription] = set()
        self.fleet = fleet if fleet is not None else FleetTable(None)
        self.uploads = uploads if uploads is not None else upload.Limits()
        self._publishing = 0
        self._broken_canary: Set[Tuple[str, str, str]] = set()
        self._stamps: Dict[Key, Optional[tuple]] = {}
        self._changed = asyncio.Event()

    def registry(self, tenant: str) -> Registry:
        return Registry(self.root, tenant=tenant)

    async def _tenant(self, context, scope: str = "read") -> str:
        auth = ""
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                auth = value
        grant = self.keys.grant(auth)
        if grant is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                "missing or unknown API key (send 'authorization: Bearer <key>')")
        tenant, scopes = grant
        if scope not in scopes:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                f"this API key of tenant {tenant} may not {scope} (its scopes: "
                                f"{','.join(sorted(scopes))}; see the keys file)")
        return tenant

    # -- channel moves --------------------------------------------------------------------------------
    def _pointer_stamp(self, key: Key) -> Optional[tuple]:
        tenant, kind, name, channel = key
        path = os.path.join(self.root, "tenants", tenant, kind, name, "channels", channel + ".json")
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def check_moves(self) -> None:
        """Wake the subscriptions of every tenant whose followed pointers changed."""
        keys: Set[Key] = set()
        for sub in self.subs:
            for kind, name, channel in sub.sent:
                keys.add((sub.tenant, kind, name, channel))
                if channel == names.DEFAULT_CHANNEL:  # its canary pointer (version or share) matters too
                    keys.add((sub.tenant, kind, name, names.CANARY_CHANNEL))
        moved = set()
        for key in keys:
            stamp = self._pointer_stamp(key)
            if self._stamps.get(key, "unseen") != stamp:
                self._stamps[key] = stamp
                moved.add(key[0])
        for sub in self.subs:
            if sub.tenant in moved:
                sub.wake.set()

    async def watch(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._changed.wait(), self.poll_s)
            except asyncio.TimeoutError:
                pass
            self._changed.clear()
            try:
                self.check_moves()
                if self.fleet.due(time.time()):
                    await asyncio.to_thread(self.fleet.write, self.fleet.snapshot())
            except Exception:  # a watcher that dies would freeze the fleet
                log.exception("arc serve: checking channel moves failed")

    def _serving(self, sub: Subscription, kind: str, name: str, channel: str) -> Tuple[Optional[int], str, str]:
        """(version, channel it comes from, error) the subscription's follow should run now."""
        reg = self.registry(sub.tenant)
        source, state = channel, None
        if channel == names.DEFAULT_CHANNEL:
            try:
                canary = reg.channel(kind, name, names.CANARY_CHANNEL)
            except RegistryError as exc:  # a broken canary pointer must not stop stable: serve stable
                canary = None
                if (sub.tenant, kind, name) not in self._broken_canary:
                    self._broken_canary.add((sub.tenant, kind, name))
                    log.error("arc serve: tenant %s: serving stable only: %s", sub.tenant, exc)
            share = self.canary_share if canary is None or canary.share is None else canary.share
            if canary is not None and canary_bucket(sub.hello.instance_id) < share:
                source, state = names.CANARY_CHANNEL, canary
        if state is None:
            state = reg.channel(kind, name, source)
        return (None, source, "") if state is None else (state.version, source, "")

    def _update(self, sub: Subscription, kind: str, name: str, channel: str, version: int,
                source: str) -> pb.Update:
        reg = self.registry(sub.tenant)
        where = f"{kind}/{name}@{version}"
        try:
            man, _path = reg.verified(kind, name, version)
        except RegistryError as exc:
            log.error("arc serve: not serving %s to tenant %s: %s", where, sub.tenant, exc)
            return pb.Update(tenant=sub.tenant, error=str(exc), artifact=pb.Artifact(
                kind=kind, name=name, channel=channel, source_channel=source, version=version))
        return pb.Update(tenant=sub.tenant, artifact=pb.Artifact(
            kind=kind, name=name, channel=channel, source_channel=source, version=version, sha256=man.sha256,
            size=man.size, signature=man.signature or "", manifest_json=man.to_json()))

    # -- agent calls ----------------------------------------------------------------------------------
    async def Subscribe(self, request: pb.AgentHello, context):
        tenant = await self._tenant(context)
        problem = _check_hello(request)
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        sub = Subscription(tenant, request)
        self.subs.add(sub)
        self.fleet.touch(tenant, request.instance_id, request.service_name, request.arc_version, request.follows,
                         connected=True)
        try:
            yield pb.Update(tenant=tenant)
            while True:
                for (kind, name, channel), (have, error_sent) in list(sub.sent.items()):
                    try:
                        version, source, _ = self._serving(sub, kind, name, channel)
                    except RegistryError as exc:
                        version, source, err = None, channel, str(exc)
                        if err != error_sent:
                            sub.sent[(kind, name, channel)] = (have, err)
                            yield pb.Update(tenant=tenant, error=err, artifact=pb.Artifact(
                                kind=kind, name=name, channel=channel))
                        continue
                    if version is None or version == have:
                        continue
                    update = self._update(sub, kind, name, channel, version, source)
                    if update.error:
                        if update.error != error_sent:
                            sub.sent[(kind, name, channel)] = (have, update.error)
                            yield update
                        continue
                    sub.sent[(kind, name, channel)] = (version, "")
                    yield update
                await sub.wake.wait()
                sub.wake.clear()
        finally:
            self.subs.discard(sub)
            if not any(s.tenant == tenant and s.hello.instance_id == request.instance_id for s in self.subs):
                self.fleet.disconnected(tenant, request.instance_id)

    async def Fetch(self, request: pb.FetchRequest, context):
        tenant = await self._tenant(context)
        try:
            man, path = await asyncio.to_thread(self.registry(tenant).verified, request.kind, request.name,
                                                int(request.version))
        except ArtifactRejected as exc:
            await context.abort(grpc.StatusCode.DATA_LOSS, str(exc))
        except RegistryError as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        if man.artifact_type == "dir":
            try:
                spool = await asyncio.to_thread(_packed, path)
            except (RegistryError, OSError, tarfile.TarError) as exc:  # changed since it was verified
                await context.abort(grpc.StatusCode.DATA_LOSS, f"{man.ref}: cannot pack the folder ({exc})")
            with spool:
                async for chunk in _chunks(spool):
                    yield chunk
            return
        with open(path, "rb") as fh:
            async for chunk in _chunks(fh):
                yield chunk

    async def Report(self, request: pb.AgentStatus, context) -> pb.ReportAck:
        tenant = await self._tenant(context)
        if not request.instance_id or len(request.instance_id) > 128 or request.ByteSize() > MAX_STATUS_BYTES:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "status needs an instance_id (≤ 128 chars) "
                                                                  f"and must stay under {MAX_STATUS_BYTES} bytes")
        self.fleet.report(tenant, request)
        return pb.ReportAck(tenant=tenant)

    # -- operator calls -------------------------------------------------------------------------------
    async def _registry_call(self, context, fn, *args, **kwargs):
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ArtifactRejected as exc:
            await context.abort(grpc.StatusCode.DATA_LOSS, str(exc))
        except RegistryError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))

    async def List(self, request: pb.ListRequest, context) -> pb.ListReply:
        tenant = await self._tenant(context)
        rows = await self._registry_call(context, self.registry(tenant).list, request.kind or None,
                                         request.name or None)
        return pb.ListReply(tenant=tenant, artifacts=[artifact_info(tenant, r) for r in rows])

    async def Show(self, request: pb.ShowRequest, context) -> pb.ShowReply:
        tenant = await self._tenant(context)
        data = await self._registry_call(context, self.registry(tenant).describe, request.kind, request.name,
                                         int(request.version) or None, request.channel or names.DEFAULT_CHANNEL)
        man = data["manifest"]
        return pb.ShowReply(tenant=tenant, verified=data["verified"], manifest_json=json.dumps(
            man, indent=2, sort_keys=True).encode("utf-8"), channels=[pb.ChannelInfo(
                channel=ch, version=c["version"], previous=c["previous"], share=c["share"], updated=c["updated"])
                for ch, c in sorted(data["channels"].items())])

    async def Publish(self, request_iterator, context) -> pb.ArtifactInfo:
        tenant = await self._tenant(context, "write")
        if self._publishing >= self.uploads.concurrent:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                f"{self._publishing} publishes are running (the most at once); try again")
        self._publishing += 1
        try:
            man, channel = await upload.receive(request_iterator, context, self.registry(tenant), self.uploads,
                                                os.path.join(self.root, ".uploads"))
        finally:
            self._publishing -= 1
        log.info("arc serve: tenant %s: published %s (%d bytes)%s", tenant, man.ref, man.size,
                 f" on {channel}" if channel else "")
        if channel:
            self._changed.set()
        rows = await self._registry_call(context, self.registry(tenant).list, man.kind, man.name)
        return artifact_info(tenant, rows[0])

    async def Promote(self, request: pb.PromoteRequest, context) -> pb.ChannelReply:
        tenant = await self._tenant(context, "write")
        channel = request.channel or names.DEFAULT_CHANNEL
        version = int(request.version) or None
        from_channel = None if version else (request.from_channel or "canary")
        share = request.share if request.HasField("share") else None
        state = await self._registry_call(context, self.registry(tenant).promote, request.kind, request.name,
                                          version, channel, from_channel=from_channel, share=share)
        return self._moved(tenant, state)

    async def Rollback(self, request: pb.RollbackRequest, context) -> pb.ChannelReply:
        tenant = await self._tenant(context, "write")
        state = await self._registry_call(context, self.registry(tenant).rollback, request.kind, request.name,
                                          request.channel or names.DEFAULT_CHANNEL)
        return self._moved(tenant, state)

    def _moved(self, tenant: str, state) -> pb.ChannelReply:
        self._changed.set()
        log.info("arc serve: tenant %s: %s/%s@%s -> %d", tenant, state.kind, state.name, state.channel, state.version)
        return pb.ChannelReply(tenant=tenant, kind=state.kind, name=state.name, channel=state.channel,
                               version=state.version, previous=state.previous, share=state.share)

    async def Fleet(self, request: pb.FleetRequest, context) -> pb.FleetReply:
        tenant = await self._tenant(context)
        return pb.FleetReply(tenant=tenant, agents=self.fleet.listing(tenant))


def artifact_info(tenant: str, row: dict) -> pb.ArtifactInfo:
    return pb.ArtifactInfo(kind=row["kind"], name=row["name"], versions=row["versions"], latest=row["latest"] or 0,
                           channels=row["channels"], shares=row["shares"], tenant=tenant)


def _check_hello(hello: pb.AgentHello) -> str:
    if not hello.instance_id or len(hello.instance_id) > 128:
        return "hello needs an instance_id of 1-128 characters"
    if len(hello.follows) > MAX_FOLLOWS:
        return f"hello follows more than {MAX_FOLLOWS} channels"
    for f in hello.follows:
        try:
            names.check_kind(f.kind)
            names.check_name(f.name)
            names.check_channel(f.channel)
        except RegistryError as exc:
            return f"hello: {exc}"
    return ""


async def serve(listen: str, root: str, keys: KeyRing, tls: Optional[Tuple[bytes, bytes]] = None,
                canary_share: float = 0.0, ready=None, fleet: Optional[FleetTable] = None,
                uploads: Optional[upload.Limits] = None) -> None:
    """Run until cancelled (or SIGTERM/SIGINT); ``ready(port)`` is called once the port is bound."""
    import signal

    server = grpc.aio.server(options=[("grpc.max_receive_message_length", MAX_MESSAGE),
                                      ("grpc.keepalive_time_ms", 20_000),
                                      ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
                                      ("grpc.keepalive_permit_without_calls", 1)])
    service = ControlService(root, keys, canary_share, fleet=fleet, uploads=uploads)
    pb_grpc.add_ControlServicer_to_server(service, server)
    if tls is not None:
        port = server.add_secure_port(listen, grpc.ssl_server_credentials([(tls[1], tls[0])]))
    else:
        port = server.add_insecure_port(listen)
    await server.start()
    watcher = asyncio.ensure_future(service.watch())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    if ready is not None:
        ready(port)
    try:
        await stop.wait()
    finally:
        watcher.cancel()
        await server.stop(1.0)
        service.fleet.write(service.fleet.snapshot())
