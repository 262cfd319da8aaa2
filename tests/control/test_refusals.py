"""What an agent must refuse, each with a clear error, keeping the version it runs: a bad or
missing signature, a tampered artifact, another tenant's artifact, a wrong API key, a plaintext
client against a TLS server."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from arc_agent.control.gen import control_pb2 as pb
from arc_agent.registry import Registry, channels, signing
from arc_agent.registry.errors import ArtifactRejected

from ..helpers.certs import make_cert
from .conftest import bundle, seeds


def wait_error(fleet, text: str, timeout: float = 30.0) -> str:
    stub, md = fleet.stub()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in stub.Fleet(pb.FleetRequest(), metadata=md).agents:
            if text in r.status.last_error:
                return r.status.last_error
        time.sleep(0.05)
    raise AssertionError(f"no agent reported {text!r}")


def test_bad_signature_tampered_and_foreign_artifacts_are_refused(fleet, tmp_path):
    fleet.publish(1)
    fleet.serve()
    agent = fleet.agent("victim")
    assert agent.wait_for(lambda s: '"seed": 1,' in s, 60), agent.proc.stderr.read()[-1500:]

    signing.generate(str(tmp_path / "intruder.pem"))
    fleet.publish(2, sign_key=str(tmp_path / "intruder.pem"))
    assert "signature does not verify with the trusted key" in wait_error(fleet, "signature")
    fleet.publish(3, sign_key="")
    assert "not signed" in wait_error(fleet, "not signed")

    man = fleet.publish(4)
    path = os.path.join(fleet.registry().root, "patterns", "fixes", "versions", "4", man.artifact)
    os.chmod(path, 0o644)
    with open(path, "ab") as fh:
        fh.write(b" ")
    assert "does not match the manifest" in wait_error(fleet, "does not match")

    foreign = fleet.publish(1, tenant="other", channel=None)  # copied into acme's tree as version 5
    acme = fleet.registry()
    src = os.path.join(fleet.registry("other").root, "patterns", "fixes", "versions", str(foreign.version))
    shutil.copytree(src, os.path.join(acme.root, "patterns", "fixes", "versions", "5"))
    manifest = os.path.join(acme.root, "patterns", "fixes", "versions", "5", "manifest.json")
    os.chmod(manifest, 0o644)
    with open(manifest) as fh:
        text = fh.read().replace('"version": 1', '"version": 5')
    with open(manifest, "w") as fh:
        fh.write(text)
    state = acme.channel("patterns", "fixes")
    channels.write(os.path.join(acme.root, "patterns", "fixes", "channels", "stable.json"),
                   state.moved("promote", 5, state.previous + [state.version]))
    assert "belongs to tenant 'other'" in wait_error(fleet, "tenant 'other'")

    fleet.publish(6)
    assert agent.wait_for(lambda s: '"seed": 6,' in s, 30)
    summary = fleet.finish(agent)
    assert summary["failures"] == 0 and seeds(agent) == [None, 1, 6]
    assert summary["status"]["counters"]["rejected"] >= 4


def test_agent_checks_tenant_and_bytes_itself(fleet, tmp_path):
    """The agent's own checks, on real manifests and files (a server that lies is not trusted)."""
    from arc_agent.control.config import ControlConfig
    from arc_agent.control.subscriber import Subscriber

    man = fleet.publish(1, tenant="other")
    sub = Subscriber(ControlConfig(target="127.0.0.1:1", secure=False, trust_key=fleet.trust), None,
                     Registry(str(tmp_path / "mirror")), {("patterns", "fixes", "stable"): 0})
    sub.tenant, sub._trust = "acme", signing.load_public(fleet.trust)[0]
    update = pb.Update(tenant="acme", artifact=pb.Artifact(
        kind="patterns", name="fixes", channel="stable", version=1, sha256=man.sha256, size=man.size,
        signature=man.signature, manifest_json=man.to_json()))
    with pytest.raises(ArtifactRejected, match="belongs to tenant 'other'; this agent's key is tenant 'acme'"):
        sub.apply(update)
    wrong = tmp_path / "wrong.json"
    wrong.write_bytes(open(bundle(tmp_path, 7), "rb").read()[: man.size].ljust(man.size, b" "))
    with pytest.raises(ArtifactRejected, match="sha256 .* does not match"):
        Registry(str(tmp_path / "mirror")).install(man, str(wrong))
    assert Registry(str(tmp_path / "mirror")).versions("patterns", "fixes") == []


def test_wrong_key_and_plaintext_against_tls_keep_the_mirror_version(fleet, tmp_path):
    cert, key = make_cert(tmp_path)
    fleet.publish(1)
    fleet.serve("--tls-cert", cert, "--tls-key", key)
    tls_url = f"grpcs://127.0.0.1:{fleet.port}"
    good = fleet.agent("tls", ARC_CONTROL_ENDPOINT=tls_url, ARC_CONTROL_CA=cert)
    assert good.wait_for(lambda s: '"seed": 1,' in s, 60), good.proc.stderr.read()[-1500:]
    fleet.finish(good)

    mirror = str(tmp_path / "mirror-tls")
    wrong_key = fleet.agent("wrong-key", ARC_CONTROL_ENDPOINT=tls_url, ARC_CONTROL_CA=cert, ARC_REGISTRY=mirror,
                            ARC_API_KEY="not-a-key-0123456789abcdef")
    plaintext = fleet.agent("plain", ARC_REGISTRY=mirror, ARC_CONTROL_ENDPOINT=f"grpc://127.0.0.1:{fleet.port}")
    for a in (wrong_key, plaintext):
        assert a.wait_for(lambda s: '"seed": 1,' in s, 60), a.proc.stderr.read()[-1500:]
    fleet.publish(2)
    check = fleet.agent("tls2", ARC_CONTROL_ENDPOINT=tls_url, ARC_CONTROL_CA=cert)
    assert check.wait_for(lambda s: '"seed": 2,' in s, 60)  # the server does serve version 2
    errors = {}
    for name, a in (("wrong-key", wrong_key), ("plain", plaintext)):
        summary = fleet.finish(a)
        # None first: the pattern engine loads in the background (off the import path) since issue 13
        assert summary["failures"] == 0 and [s for s in seeds(a) if s is not None] == [1], name
        assert not summary["status"]["connected"]
        errors[name] = summary["status"]["last_error"]
        assert "not-a-key" not in a.proc.stderr.read().decode()
    assert "refused the API key (ARC_API_KEY)" in errors["wrong-key"]
    assert "unavailable (if the server uses TLS: grpcs:// and ARC_CONTROL_CA)" in errors["plain"]
