"""``arc registry publish|show --url`` through a real ``arc serve``: files and folders land in the
server's tenant registry exactly as a local publish would store them; concurrent publishers get
distinct numbers; a read-only key, an unsigned or foreign-signed manifest, another tenant's
manifest, a number already taken, a bad name, bytes that do not match or overflow the manifest are
each refused with one line, and nothing is stored or replaced."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import grpc
import pytest

from arc_agent.control.gen import control_pb2 as pb
from arc_agent.registry import channels, signing
from arc_agent.registry.manifest import Manifest, digest

from ..helpers.procs import ROOT, clean_env
from .conftest import KEY_ACME, bundle

KEY_READER = "reader-key-0123456789abcdef"


@pytest.fixture
def served(fleet):
    with open(fleet.keys, "a") as fh:
        fh.write(f"acme {KEY_READER} read\n")
    fleet.serve("--trust-key", fleet.trust)
    return fleet


def _publish(fleet, *args: str, key: str = KEY_ACME) -> subprocess.CompletedProcess:
    return fleet.cli("registry", "publish", *args, "--url", fleet.url, key=key)


def test_publish_and_show_through_the_service(served, tmp_path):
    fleet = served
    path = bundle(tmp_path, 1)
    out = _publish(fleet, "patterns", "fixes", path, "--sign-key", fleet.sign_key, "--channel", "canary",
                   "--metrics", '{"failures_fixed": 0.9}', "--job-id", "job-7")
    assert out.returncode == 0, out.stderr
    assert "published patterns/fixes@1" in out.stdout and "(tenant acme) on channel canary" in out.stdout

    folder = tmp_path / "policy"
    (folder / "sub").mkdir(parents=True)
    (folder / "policy.onnx").write_bytes(os.urandom(3000))
    (folder / "sub" / "meta.json").write_text('{"a": 1}')
    out = _publish(fleet, "models", "ui-policy", str(folder), "--sign-key", fleet.sign_key, "--channel", "stable")
    assert out.returncode == 0, out.stderr

    reg = fleet.registry()
    man, stored = reg.verified("patterns", "fixes", 1)
    assert (man.tenant, man.job_id, man.metrics, man.parent) == ("acme", "job-7", {"failures_fixed": 0.9}, None)
    assert open(stored, "rb").read() == open(path, "rb").read()
    signing.verify(signing.load_public(fleet.trust)[0], man.signed_payload(), man.signature, man.ref)
    assert reg.channel("patterns", "fixes", "canary").version == 1
    folder_man, stored_folder = reg.verified("models", "ui-policy", 1)
    assert folder_man.artifact_type == "dir" and digest(stored_folder)[0] == digest(str(folder))[0]

    procs = [subprocess.Popen([sys.executable, "-m", "arc_agent.cli", "registry", "publish", "patterns", "fixes",
                               bundle(tmp_path, seed), "--sign-key", fleet.sign_key, "--url", fleet.url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=clean_env(ARC_API_KEY=KEY_ACME), cwd=str(ROOT)) for seed in (2, 3, 4)]
    results = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    assert reg.versions("patterns", "fixes") == [1, 2, 3, 4], "three racing publishers, three numbers"
    assert sorted(reg.manifest("patterns", "fixes", v).sha256 for v in (2, 3, 4)) == \
        sorted(digest(bundle(tmp_path, s))[0] for s in (2, 3, 4))

    shown = fleet.cli("registry", "show", "patterns", "fixes", "--channel", "canary", "--url", fleet.url, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    local = fleet.cli("registry", "show", "patterns", "fixes", "--channel", "canary", "--registry",
                      str(fleet.root), "--tenant", "acme", "--json")
    assert data["manifest"] == json.loads(local.stdout)["manifest"] and data["tenant"] == "acme"
    assert data["verified"].startswith("ok") and data["channels"]["canary"]["version"] == 1
    text = fleet.cli("registry", "show", "models", "ui-policy", "1", "--url", fleet.url).stdout
    assert "models/ui-policy@1" in text and "signed    yes" in text and "channel   stable -> 1" in text


def _raw(fleet, man: Manifest, data: bytes, channel: str = "", key: str = KEY_ACME) -> str:
    """Publish ``man`` + ``data`` straight over gRPC; the error the server answers ('' if stored)."""
    stub, md = fleet.stub(key)
    msgs = [pb.PublishChunk(header=pb.PublishHeader(manifest_json=man.to_json(), channel=channel)),
            pb.PublishChunk(data=data)]
    try:
        stub.Publish(iter(msgs), metadata=md, timeout=30)
    except grpc.RpcError as exc:
        return f"{exc.code().name}: {exc.details()}"
    return ""


def test_refusals_store_nothing(served, tmp_path):
    fleet = served
    first = fleet.publish(1)  # version 1, signed, on stable
    path = bundle(tmp_path, 2)
    data = open(path, "rb").read()
    sha, size, kind = digest(path)
    sign = signing.signer(fleet.sign_key)

    def manifest(**change) -> Manifest:
        man = Manifest(kind="patterns", name="fixes", version=2, artifact="fixes.json", artifact_type=kind,
                       sha256=sha, size=size, parent=1, created=channels.now_iso(), tenant="acme")
        man = dataclasses.replace(man, **change)
        return dataclasses.replace(man, signature=sign(man.signed_payload()))

    reader = _publish(fleet, "patterns", "fixes", path, "--sign-key", fleet.sign_key, key=KEY_READER)
    assert reader.returncode == 1 and reader.stderr.count("\n") == 1
    assert "PERMISSION_DENIED: this API key of tenant acme may not write (its scopes: read" in reader.stderr
    unsigned = _publish(fleet, "patterns", "fixes", path)
    assert unsigned.returncode == 1 and "not signed (publish it with --sign-key)" in unsigned.stderr
    signing.generate(str(tmp_path / "intruder.pem"))
    intruder = _publish(fleet, "patterns", "fixes", path, "--sign-key", str(tmp_path / "intruder.pem"))
    assert intruder.returncode == 1 and "signature does not verify with the trusted key" in intruder.stderr

    assert "PERMISSION_DENIED: patterns/fixes@2: the manifest names tenant 'other'; this API key publishes " \
           "for tenant 'acme' only" in _raw(fleet, manifest(tenant="other"), data)
    assert "ABORTED: patterns/fixes@1: the next version of patterns/fixes is 2" in \
        _raw(fleet, manifest(version=1, parent=None), data)
    assert "INVALID_ARGUMENT: bad artifact name '..'" in _raw(fleet, manifest(name=".."), data)
    assert "INVALID_ARGUMENT: patterns/fixes@2: more bytes than the manifest's size" in \
        _raw(fleet, manifest(), data + b" ")
    assert "does not match the manifest" in _raw(fleet, manifest(), data[:-1] + b" ")
    assert "INVALID_ARGUMENT: patterns/fixes@2: artifact size" in _raw(fleet, manifest(), data[:-1])
    assert "parent version 7 does not exist" in _raw(fleet, manifest(parent=7), data)

    reg = fleet.registry()
    assert reg.versions("patterns", "fixes") == [1]
    assert reg.verified("patterns", "fixes", 1)[0] == first
    assert os.listdir(os.path.join(fleet.root, ".uploads")) == [], "no upload left behind"
    assert _raw(fleet, manifest(), data, channel="canary") == ""
    assert reg.channel("patterns", "fixes", "canary").version == 2


def test_key_scopes_in_the_keys_file(tmp_path):
    from arc_agent.control.auth import KeyFileError, KeyRing

    path = tmp_path / "keys"
    path.write_text(f"acme {KEY_ACME}\nacme {KEY_READER} read\nci ci-key-0123456789abcdef write\n")
    os.chmod(path, 0o600)
    ring = KeyRing.load(str(path))
    assert ring.grant(f"Bearer {KEY_ACME}") == ("acme", frozenset({"read", "write"})), "no scopes: both, as before"
    assert ring.grant(f"Bearer {KEY_READER}") == ("acme", frozenset({"read"}))
    assert ring.grant("Bearer ci-key-0123456789abcdef") == ("ci", frozenset({"write"}))
    path.write_text(f"acme {KEY_ACME} admin\n")
    with pytest.raises(KeyFileError, match="line 1: scopes must be read, write or read,write") as err:
        KeyRing.load(str(path))
    assert KEY_ACME not in str(err.value)


def test_header_limits_without_a_server(tmp_path):
    """Size over the server's limit, and a signed manifest at a server with no key to check it."""
    from arc_agent.control.upload import Limits, check_header

    man = Manifest(kind="patterns", name="fixes", version=1, artifact="f.json", artifact_type="file",
                   sha256="0" * 64, size=2048, parent=None, created=channels.now_iso(), tenant="acme")
    code, problem = check_header(man, "acme", "", Limits(max_bytes=1024))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "2048 bytes is over this server's publish limit of 1024" \
        in problem
    code, problem = check_header(dataclasses.replace(man, signature="ed25519:AAAA"), "acme", "", Limits())
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "no trust key" in problem
    assert check_header(man, "acme", "stable", Limits()) == (grpc.StatusCode.OK, "")
    assert check_header(man, "acme", "Stable!", Limits())[0] == grpc.StatusCode.INVALID_ARGUMENT
