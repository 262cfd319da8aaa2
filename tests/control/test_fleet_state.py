"""The fleet table survives a killed ``arc serve``: a restarted server lists the agents with their last
report, marked stale until they report again. Bounded: agents per tenant, a TTL, private files."""

from __future__ import annotations

import os
import stat
import time

from arc_agent.control.fleetstate import FleetTable
from arc_agent.control.gen import control_pb2 as pb

from .conftest import KEY_OTHER


def _report(stub, md, instance_id: str, seed: int) -> None:
    stub.Report(pb.AgentStatus(instance_id=instance_id, service_name="svc", arc_version="t",
                               in_use=[pb.Follow(kind="patterns", name="fixes", channel="stable", version=seed)],
                               counters={"applied": seed}), metadata=md, timeout=10)


def _stored(path: str) -> list:
    try:
        with open(path, "rb") as fh:
            return sorted(r.instance_id for r in pb.FleetReply.FromString(fh.read()).agents)
    except FileNotFoundError:
        return []


def test_fleet_survives_a_killed_server_and_stays_bounded(fleet, tmp_path):
    state = tmp_path / "state"
    fleet.serve("--state", str(state), "--fleet-max-agents", "3")
    stub, md = fleet.stub()
    for i in range(5):
        _report(stub, md, f"a{i}", i + 1)
    other_stub, other_md = fleet.stub(KEY_OTHER)
    _report(other_stub, other_md, "o1", 9)
    kept = ["a2", "a3", "a4"]  # at most 3 per tenant: the least recently seen went first
    assert [r.instance_id for r in stub.Fleet(pb.FleetRequest(), metadata=md).agents] == kept

    acme_file = str(state / "fleet-acme.pb")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (_stored(acme_file) != kept or _stored(str(state / "fleet-other.pb"))
                                           != ["o1"]):
        time.sleep(0.05)
    assert _stored(acme_file) == kept
    assert stat.S_IMODE(os.stat(acme_file).st_mode) == 0o600 and stat.S_IMODE(os.stat(state).st_mode) == 0o700
    before = {r.instance_id: r.last_report_unix for r in stub.Fleet(pb.FleetRequest(), metadata=md).agents}

    fleet.stop(fleet.server, "kill")  # no goodbye: what is on disk is all the next server has
    fleet.serve("--state", str(state), "--fleet-max-agents", "3")
    records = stub.Fleet(pb.FleetRequest(), metadata=md).agents
    assert [r.instance_id for r in records] == kept
    assert all(r.stale and not r.connected and r.tenant == "acme" for r in records)
    assert {r.instance_id: r.last_report_unix for r in records} == before
    assert records[0].status.counters["applied"] == 3
    assert [r.instance_id for r in other_stub.Fleet(pb.FleetRequest(), metadata=other_md).agents] == ["o1"]

    shown = fleet.cli("fleet", "--url", fleet.url)
    assert "tenant acme: 3 agent(s), 0 connected" in shown.stdout and " stale " in shown.stdout, shown.stderr
    _report(stub, md, "a3", 7)
    fresh = {r.instance_id: r for r in stub.Fleet(pb.FleetRequest(), metadata=md).agents}
    assert not fresh["a3"].stale and fresh["a2"].stale and fresh["a3"].status.counters["applied"] == 7


def test_expired_and_foreign_records_are_not_loaded(tmp_path):
    """A record older than the TTL, a record naming another tenant and a file that is not a fleet
    table are dropped at load; the rest come back stale."""
    now = time.time()
    old = pb.AgentRecord(tenant="acme", instance_id="old", last_report_unix=now - 8 * 86400)
    recent = pb.AgentRecord(tenant="acme", instance_id="recent", last_report_unix=now - 3600, connected=True)
    foreign = pb.AgentRecord(tenant="other", instance_id="sneaky", last_report_unix=now)
    (tmp_path / "fleet-acme.pb").write_bytes(pb.FleetReply(tenant="acme", agents=[old, recent, foreign])
                                             .SerializeToString())
    (tmp_path / "fleet-broken.pb").write_bytes(b"\xff" * 64)
    table = FleetTable(str(tmp_path), ttl_s=7 * 86400)
    assert table.load() == 1
    records = table.listing("acme")
    assert [(r.instance_id, r.stale, r.connected) for r in records] == [("recent", True, False)]
    assert table.listing("broken") == []

    table.report("acme", pb.AgentStatus(instance_id="new", counters={"applied": 2}))
    table.disconnected("acme", "new")
    files = table.snapshot()  # cached encodings of unchanged records + fresh ones of changed records
    records = table.tenants["acme"]
    assert files["acme"][1] == pb.FleetReply(tenant="acme", agents=[records[k] for k in sorted(records)]
                                             ).SerializeToString()
