"""20 agent processes follow a real ``arc serve``: a promote and a rollback reach all of them and
are applied within 2 s (p99) while their app loops keep calling, none failing; ``arc fleet`` sees them."""

from __future__ import annotations

import json
import time

from arc_agent.control.gen import control_pb2 as pb

from .conftest import seeds

AGENTS = 20


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def applied_at(agent, seed: int, after: float) -> float:
    line = agent.wait_for(lambda s: f'"seed": {seed},' in s and json.loads(s)["t"] >= after, 20)
    assert line, f"agent never applied seed {seed}: {seeds(agent)}"
    return json.loads(line)["t"] - after


def test_promote_and_rollback_reach_20_agents_within_2s(fleet):
    fleet.publish(1)
    fleet.serve()
    agents = [fleet.agent(f"agent-{i:02d}") for i in range(AGENTS)]
    for a in agents:
        assert a.wait_for(lambda s: '"seed": 1,' in s, 90), a.proc.stderr.read()[-2000:]
    fleet.publish(2, channel="canary")
    stub, md = fleet.stub()

    t0 = time.time()
    reply = stub.Promote(pb.PromoteRequest(kind="patterns", name="fixes", from_channel="canary"), metadata=md)
    assert (reply.version, reply.tenant) == (2, "acme")
    promote = [applied_at(a, 2, t0) for a in agents]

    t0 = time.time()
    assert stub.Rollback(pb.RollbackRequest(kind="patterns", name="fixes"), metadata=md).version == 1
    rollback = [applied_at(a, 1, t0) for a in agents]
    print(f"promote p99 {p99(promote):.3f} s, rollback p99 {p99(rollback):.3f} s")
    assert p99(promote) <= 2.0 and p99(rollback) <= 2.0

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        records = stub.Fleet(pb.FleetRequest(), metadata=md).agents
        if len(records) == AGENTS and all([f.version for f in r.status.in_use] == [1] for r in records):
            break
        time.sleep(0.1)
    assert len(records) == AGENTS and all(r.connected and r.tenant == "acme" for r in records)
    assert all([(f.channel, f.version) for f in r.status.in_use] == [("stable", 1)] for r in records)

    shown = fleet.cli("fleet", "--url", fleet.url)
    assert shown.returncode == 0, shown.stderr
    assert f"tenant acme: {AGENTS} agent(s), {AGENTS} connected" in shown.stdout
    assert "agent-07" in shown.stdout and "patterns/fixes@stable=1" in shown.stdout

    for a in agents:
        summary = fleet.finish(a)
        assert summary["failures"] == 0 and summary["calls"] > 0
        assert seeds(a) == [None, 1, 2, 1], "nothing before the first update; each version applied once, in order"
        assert summary["status"]["counters"]["rejected"] == 0


def test_registry_cli_through_the_service_and_canary_share(fleet):
    fleet.publish(1)
    fleet.publish(2, channel="canary")
    fleet.serve("--canary-share", "0.5")
    listed = fleet.cli("registry", "list", "--url", fleet.url, "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data["tenant"] == "acme" and data["artifacts"][0]["channels"] == {"canary": "2", "stable": "1"}
    other = fleet.cli("registry", "list", "--url", fleet.url, key="other-key-0123456789abcdef")
    assert other.returncode == 0 and "no artifacts for tenant other" in other.stdout

    from arc_agent.control.config import canary_bucket

    names = [f"i{i}" for i in range(40)]
    in_canary = [n for n in names if canary_bucket(n) < 0.5][:2]
    in_stable = [n for n in names if canary_bucket(n) >= 0.5][:2]
    agents = {n: fleet.agent(n) for n in in_canary + in_stable}
    for n, a in agents.items():
        want = 2 if n in in_canary else 1
        assert a.wait_for(lambda s, w=want: f'"seed": {w},' in s, 60), (n, seeds(a), a.proc.stderr.read()[-1500:])

    promoted = fleet.cli("registry", "promote", "patterns", "fixes", "--url", fleet.url)
    assert promoted.returncode == 0 and "-> 2 (tenant acme)" in promoted.stdout, promoted.stderr
    for n in in_stable:
        assert agents[n].wait_for(lambda s: '"seed": 2,' in s, 20)
    bad = fleet.cli("registry", "rollback", "patterns", "fixes", "--channel", "canary", "--url", fleet.url)
    assert bad.returncode == 1 and "nothing to roll back to" in bad.stderr


def test_doctor_shows_the_control_connection_and_versions_in_use(fleet):
    fleet.publish(1)
    fleet.serve()
    agent = fleet.agent("doc")
    assert agent.wait_for(lambda s: '"seed": 1,' in s, 60)
    fleet.finish(agent)
    env = fleet.agent_env("doc")
    import subprocess
    import sys

    from ..helpers.procs import ROOT

    out = subprocess.run([sys.executable, "-m", "arc_agent.cli", "doctor", "--timeout", "3"], env=env,
                         capture_output=True, text=True, timeout=60, cwd=str(ROOT)).stdout
    assert f"grpc://127.0.0.1:{fleet.port}: connected, tenant acme, 1 artifact(s)" in out, out
    assert "in use: patterns/fixes stable=1" in out
    assert "ARC_API_KEY=(set, hidden)" in out and "acme-key" not in out
