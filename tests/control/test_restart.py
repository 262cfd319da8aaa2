"""Server killed mid-stream: agents keep serving their version, resubscribe when it is back and
catch up; a restarted server (empty memory) sends nothing twice; an agent restarted without a
server runs the last good version from its mirror."""

from __future__ import annotations

import time

from arc_agent.control.gen import control_pb2 as pb

from .conftest import seeds


def test_server_killed_and_restarted(fleet):
    fleet.publish(1)
    server = fleet.serve()
    agents = [fleet.agent(f"r{i}") for i in range(3)]
    for a in agents:
        assert a.wait_for(lambda s: '"seed": 1,' in s, 60), a.proc.stderr.read()[-1500:]
    fleet.stop(server, "kill")
    fleet.publish(2)  # promoted while the server is down, straight into its registry directory
    calls_before = [len(a.events()) for a in agents]
    assert all(a.proc.poll() is None for a in agents) and calls_before

    fleet.serve()  # same port, fresh process: nothing of the old one's memory
    for a in agents:
        assert a.wait_for(lambda s: '"seed": 2,' in s, 60), seeds(a)
    stub, md = fleet.stub()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(stub.Fleet(pb.FleetRequest(), metadata=md).agents) < 3:
        time.sleep(0.05)

    fleet.stop(fleet.server, "kill")
    fleet.serve()  # agents already run what it serves: it sends them nothing
    reconnected = stub.Fleet(pb.FleetRequest(), metadata=md)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sum(r.connected for r in reconnected.agents) < 3:
        time.sleep(0.05)
        reconnected = stub.Fleet(pb.FleetRequest(), metadata=md)
    assert sum(r.connected for r in reconnected.agents) == 3
    fleet.stop(fleet.server, "kill")

    for a in agents:
        summary = fleet.finish(a)
        assert summary["failures"] == 0
        assert seeds(a) == [None, 1, 2], "applied once each, nothing lost, nothing twice"
        assert summary["status"]["counters"]["applied"] == 2 and summary["status"]["counters"]["reconnects"] >= 2

    again = fleet.agent("r0")  # no server at all now: the mirror's last good version runs
    assert again.wait_for(lambda s: '"seed": 2,' in s, 60), again.proc.stderr.read()[-1500:]
    assert fleet.finish(again)["failures"] == 0
