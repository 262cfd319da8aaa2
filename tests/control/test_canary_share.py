"""Canary share per artifact: each artifact's canary pointer carries its own share (set through the
service or the local CLI), ``--canary-share`` covers artifacts without one, and N subscribers
following ``stable`` over real gRPC are split per artifact exactly by the stable hash of their
instance id; changing a share moves exactly the agents whose hash lies between the old and new share."""

from __future__ import annotations

import asyncio

import grpc

from arc_agent.control.config import canary_bucket
from arc_agent.control.gen import control_pb2 as pb
from arc_agent.control.gen import control_pb2_grpc as pb_grpc
from arc_agent.registry import signing

from .conftest import KEY_ACME, bundle

AGENTS = 40
NAMES = ("low", "high", "default")
MD = (("authorization", f"Bearer {KEY_ACME}"),)


def _publish(fleet, name: str) -> None:
    reg = fleet.registry()
    sign = signing.signer(fleet.sign_key)
    reg.publish("patterns", name, bundle(fleet.tmp, 1), channel="stable", sign=sign)
    reg.publish("patterns", name, bundle(fleet.tmp, 2), channel="canary", sign=sign)


class Followers:
    """Subscribers following ``stable`` of each artifact over one real gRPC connection; ``seen`` holds
    the version each (instance id, artifact) was last sent."""

    def __init__(self, port: int, ids) -> None:
        self.port, self.ids = port, ids
        self.seen: dict = {}
        self.changed = asyncio.Event()

    async def __aenter__(self) -> Followers:
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.port}")
        stub = pb_grpc.ControlStub(self.channel)
        self.tasks = [asyncio.ensure_future(self._one(stub, i)) for i in self.ids]
        return self

    async def __aexit__(self, *exc) -> None:
        for t in self.tasks:
            t.cancel()
        await self.channel.close()

    async def _one(self, stub, instance_id: str) -> None:
        hello = pb.AgentHello(instance_id=instance_id, follows=[
            pb.Follow(kind="patterns", name=n, channel="stable") for n in NAMES])
        async for update in stub.Subscribe(hello, metadata=MD):
            if update.HasField("artifact") and not update.error:
                self.seen[(instance_id, update.artifact.name)] = update.artifact.version
                self.changed.set()

    async def wait(self, predicate, timeout: float = 60.0) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate(self.seen):
            self.changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, f"subscribers did not get there; they saw {self.seen}"
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass
        return dict(self.seen)


def test_each_artifact_splits_the_fleet_by_its_own_share(fleet):
    for name in NAMES:
        _publish(fleet, name)
    fleet.serve("--canary-share", "0.5")
    assert fleet.cli("registry", "promote", "patterns", "low", "--channel", "canary", "--share", "0.2",
                     "--url", fleet.url).returncode == 0
    local = fleet.cli("registry", "promote", "patterns", "high", "--channel", "canary", "--share", "0.75",
                      "--registry", str(fleet.root), "--tenant", "acme")
    assert local.returncode == 0 and "(share 0.75)" in local.stdout, local.stderr
    listed = fleet.cli("registry", "list", "--url", fleet.url).stdout
    assert "patterns/high: 2 version(s), latest 2, canary=2 (share 0.75), stable=1" in listed
    assert "patterns/default: 2 version(s), latest 2, canary=2, stable=1" in listed

    ids = [f"agent-{i:03d}" for i in range(AGENTS)]
    shares = {"low": 0.2, "high": 0.75, "default": 0.5}
    want = {(i, n): 2 if canary_bucket(i) < shares[n] else 1 for i in ids for n in NAMES}
    assert 0 < sum(v == 2 for (_, n), v in want.items() if n == "low") < AGENTS, "the ids must straddle the shares"
    def moved(seen: dict) -> bool:
        return all(seen.get((i, "low")) == (2 if canary_bucket(i) < 0.6 else 1) for i in ids)

    async def follow() -> tuple:
        async with Followers(fleet.port, ids) as followers:
            first = await followers.wait(lambda s: s == want)
            # a share moved through the service: the agents between 0.2 and 0.6 switch on their open streams
            reply = await asyncio.to_thread(fleet.cli, "registry", "promote", "patterns", "low", "--channel",
                                            "canary", "--share", "0.6", "--url", fleet.url)
            assert reply.returncode == 0 and "(share 0.6)" in reply.stdout, reply.stderr
            return first, await followers.wait(moved)

    first, after = asyncio.run(follow())
    assert first == want
    assert {k: v for k, v in after.items() if k[1] != "low"} == {k: v for k, v in want.items() if k[1] != "low"}
    assert sum(1 for i in ids if 0.2 <= canary_bucket(i) < 0.6) > 0, "some agents must have switched"
    assert fleet.registry().channel("patterns", "low", "canary").share == 0.6

    # a broken canary pointer does not stop stable: every follower of that artifact is served stable
    pointer = fleet.registry().root + "/patterns/default/channels/canary.json"
    with open(pointer, "w") as fh:
        fh.write('{"not": "a pointer"}')

    async def broken() -> dict:
        async with Followers(fleet.port, ids[:10]) as followers:
            return await followers.wait(lambda s: len(s) == 30)

    assert any(canary_bucket(i) < 0.5 for i in ids[:10]), "some of them would be in the default share"
    seen = asyncio.run(broken())
    assert {v for (i, n), v in seen.items() if n == "default"} == {1}
