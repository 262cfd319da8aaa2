"""Control plane fan-out: time from a Promote to 100 % of N simulated subscribers having applied it
(fetched, sha256 and Ed25519 checked), the server's CPU and memory per 1,000 subscribers, and the
throughput of ``arc registry publish --url`` (signed, streamed, checked and stored by the server)
against a local publish of the same file in the same run.

    python benchmarks/control.py [--subscribers 200] [--idle-subscribers 1000] [--rounds 5] [--publish-mib 32]

Subscribers are asyncio gRPC streams in this process (50 per channel) against a real ``arc serve``
process; the server's figures come from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import grpc  # noqa: E402

from arc_agent.control.gen import control_pb2 as pb  # noqa: E402
from arc_agent.control.gen import control_pb2_grpc as pb_grpc  # noqa: E402
from arc_agent.registry import Registry, signing  # noqa: E402
from arc_agent.registry.manifest import parse  # noqa: E402

KEY = "bench-key-0123456789abcdef"
MD = (("authorization", f"Bearer {KEY}"),)


def proc_stats(pid: int) -> tuple:
    """(rss MiB, cpu seconds) of a process."""
    with open(f"/proc/{pid}/status") as fh:
        rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def subscriber(stub, i: int, trust, applied: dict, ready: asyncio.Event, count: list, total: int) -> None:
    hello = pb.AgentHello(instance_id=f"sim-{i}", service_name="bench", arc_version="bench",
                          follows=[pb.Follow(kind="patterns", name="fixes", channel="stable", version=1)])
    async for update in stub.Subscribe(hello, metadata=MD):
        if not update.HasField("artifact"):
            count[0] += 1
            if count[0] == total:
                ready.set()
            continue
        a = update.artifact
        man = parse(a.manifest_json, "bench")
        signing.verify(trust, man.signed_payload(), man.signature, "bench")
        data = b"".join([c.data async for c in stub.Fetch(pb.FetchRequest(kind=a.kind, name=a.name,
                                                                          version=a.version), metadata=MD)])
        assert hashlib.sha256(data).hexdigest() == man.sha256
        applied.setdefault(a.version, []).append(time.perf_counter())


async def fanout(port: int, n: int, rounds: int, trust, reg: Registry, server_pid: int) -> dict:
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range((n + 49) // 50)]
    stubs = [pb_grpc.ControlStub(c) for c in channels]
    applied: dict = {}
    ready, count = asyncio.Event(), [0]
    rss0, cpu0 = proc_stats(server_pid)
    tasks = [asyncio.ensure_future(subscriber(stubs[i // 50], i, trust, applied, ready, count, n)) for i in range(n)]
    try:
        await asyncio.wait_for(ready.wait(), 60)
    except asyncio.TimeoutError:
        raise SystemExit(f"only {count[0]} of {n} subscribers got their welcome within 60 s") from None
    rss1, cpu1 = proc_stats(server_pid)
    control = stubs[0]
    times = []
    for r in range(rounds + rounds % 2):  # even: stable ends on version 1 again for the next batch
        applied.clear()
        t0 = time.perf_counter()
        if r % 2 == 0:
            await control.Promote(pb.PromoteRequest(kind="patterns", name="fixes", version=2), metadata=MD)
            want = 2
        else:
            await control.Rollback(pb.RollbackRequest(kind="patterns", name="fixes"), metadata=MD)
            want = 1
        while len(applied.get(want, [])) < n:
            await asyncio.sleep(0.001)
        times.append(max(applied[want]) - t0)
    rss2, cpu2 = proc_stats(server_pid)
    idle_t0 = time.perf_counter()
    await asyncio.sleep(5)
    rss3, cpu3 = proc_stats(server_pid)
    idle_s = time.perf_counter() - idle_t0
    for t in tasks:
        t.cancel()
    for c in channels:
        await c.close()
    return {"subscribers": n, "apply_all_s": times, "connect_rss_mib": rss1 - rss0, "connect_cpu_s": cpu1 - cpu0,
            "fanout_cpu_s_per_round": (cpu2 - cpu1) / len(times), "idle_cpu_share": (cpu3 - cpu2) / idle_s,
            "rss_mib": rss3}


def publish_throughput(port: int, tmp: str, pem: str, reg: Registry, mib: int, rounds: int) -> dict:
    """MB/s of publishes through the server vs straight into a local registry, same file, same run."""
    import argparse

    from arc_agent.control.publish import publish

    path = os.path.join(tmp, "blob.bin")
    with open(path, "wb") as fh:
        for _ in range(mib):
            fh.write(os.urandom(1 << 20))
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 4 << 20)])
    stub = pb_grpc.ControlStub(channel)
    args = argparse.Namespace(kind="models", name="blob", path=path, channel=None, metrics={}, job_id=None,
                              parent=None, sign_key=pem)
    sign = signing.signer(pem)
    remote, local = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        publish(args, stub, MD)
        remote.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        reg.publish("models", "blob-local", path, sign=sign)
        local.append(time.perf_counter() - t0)
    channel.close()
    size = mib * (1 << 20) / 1e6
    return {"remote_mb_s": [size / t for t in remote], "local_mb_s": [size / t for t in local]}


def fleet_state(tmp: str, agents: int) -> dict:
    """Milliseconds to snapshot (event loop) + write (worker thread) one tenant's fleet table of ``agents``
    records (each with a status like the agent's: 3 integrations, 2 artifacts in use, 8 counters): the
    first snapshot, then a steady one (a flush every second, agents reporting every 30 s: 1/30 of them
    changed), and to load it at start."""
    from arc_agent.control.fleetstate import FleetTable

    def status(i: int, n: int) -> pb.AgentStatus:
        return pb.AgentStatus(
            instance_id=f"host-{i:06d}-1234", service_name="checkout-api", arc_version="0.9.0",
            in_use=[pb.Follow(kind="patterns", name="fixes", channel="stable", version=12),
                    pb.Follow(kind="models", name="ui-policy", channel="stable", version=3)],
            integrations={"openai": "3.54.0", "anthropic": "2.12.0", "playwright": "skipped: not installed"},
            last_flush_unix=time.time(), counters={f"c{k}": k * 1000 + n for k in range(8)})

    table = FleetTable(os.path.join(tmp, "fleet"), max_per_tenant=agents)
    for i in range(agents):
        table.report("bench", status(i, 0))
    out = {}
    for phase in ("first", "steady"):
        t0 = time.perf_counter()
        files = table.snapshot()
        t1 = time.perf_counter()
        table.write(files)
        out[f"{phase}_snapshot_ms"], out[f"{phase}_write_ms"] = (t1 - t0) * 1000, (time.perf_counter() - t1) * 1000
        for i in range(0, agents, 30):
            table.report("bench", status(i, 1))
    t0 = time.perf_counter()
    assert FleetTable(os.path.join(tmp, "fleet"), max_per_tenant=agents).load() == agents
    out["load_ms"] = (time.perf_counter() - t0) * 1000
    out["mb"] = len(files["bench"][1]) / 1e6
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscribers", type=int, default=200)
    ap.add_argument("--idle-subscribers", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--publish-mib", type=int, default=32, help="file size for the publish throughput (0: skip)")
    ap.add_argument("--publish-rounds", type=int, default=3)
    ap.add_argument("--fleet-agents", type=int, default=10_000, help="records in the fleet table timing (0: skip)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keys = os.path.join(tmp, "keys")
        with open(keys, "w") as fh:
            fh.write(f"bench {KEY}\n")
        os.chmod(keys, 0o600)
        pem = os.path.join(tmp, "sign.pem")
        trust = signing.load_public(signing.generate(pem))[0]
        reg = Registry(os.path.join(tmp, "reg"), tenant="bench")
        for seed in (1, 2):
            path = os.path.join(tmp, f"b{seed}.json")
            with open(path, "w") as fh:
                json.dump({"patterns": [{"id": f"p{i}", "pattern": {"model": f"m{i}"}, "fix": {"seed": seed}}
                                        for i in range(200)]}, fh)
            reg.publish("patterns", "fixes", path, channel="stable" if seed == 1 else None, sign=signing.signer(pem))
        server = subprocess.Popen([sys.executable, "-m", "arc_agent.cli", "serve", "--listen", "127.0.0.1:0",
                                   "--registry", os.path.join(tmp, "reg"), "--keys", keys,
                                   "--trust-key", signing.public_text(trust)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = int(server.stdout.readline().split("listening on ")[1].split()[0].rsplit(":", 1)[1])
            for n in (args.subscribers, args.idle_subscribers):
                print(f"{n} subscribers …", flush=True)
                res = asyncio.run(fanout(port, n, args.rounds, trust, reg, server.pid))
                t = res["apply_all_s"]
                print(f"  promote/rollback -> 100 % of {n} applied: median {statistics.median(t) * 1000:.0f} ms, "
                      f"max {max(t) * 1000:.0f} ms over {len(t)} rounds")
                print(f"  server: +{res['connect_rss_mib']:.1f} MiB and {res['connect_cpu_s']:.2f} CPU s to connect "
                      f"them ({res['connect_rss_mib'] / n * 1000:.1f} MiB per 1,000), "
                      f"{res['fanout_cpu_s_per_round']:.3f} CPU s per fan-out, idle CPU "
                      f"{res['idle_cpu_share'] * 100:.1f} % of a core, RSS {res['rss_mib']:.0f} MiB")
            if args.publish_mib > 0:
                print(f"publish {args.publish_mib} MiB × {args.publish_rounds} …", flush=True)
                res = publish_throughput(port, tmp, pem, reg, args.publish_mib, args.publish_rounds)
                remote, local = statistics.median(res["remote_mb_s"]), statistics.median(res["local_mb_s"])
                print(f"  through the server {remote:.0f} MB/s, local publish {local:.0f} MB/s (median), "
                      f"ratio {remote / local:.2f}")
            if args.fleet_agents > 0:
                res = fleet_state(tmp, args.fleet_agents)
                print(f"fleet table of {args.fleet_agents} agents ({res['mb']:.1f} MB): first snapshot "
                      f"{res['first_snapshot_ms']:.0f} ms + write {res['first_write_ms']:.0f} ms, steady snapshot "
                      f"(1/30 changed) {res['steady_snapshot_ms']:.1f} ms + write {res['steady_write_ms']:.0f} ms, "
                      f"load at start {res['load_ms']:.0f} ms")
        finally:
            server.terminate()
            server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
