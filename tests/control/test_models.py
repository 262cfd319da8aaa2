"""Directory artifacts (``models``, e.g. the UI tool policy) over the control plane: an agent process
following ``ARC_VISION_POLICY=registry:ui-policy`` gets each promoted folder through ``arc serve`` and
its vision policy slot swaps to it; a folder changed after publishing is refused and the agent keeps
its version; an archive that would write outside its folder (or holds links, hidden or extra
entries, or bytes the manifest does not name) is refused before anything lands in the mirror."""

from __future__ import annotations

import io
import json
import os
import tarfile

import pytest

from arc_agent.control import archive
from arc_agent.registry import Registry, channels, signing
from arc_agent.registry.errors import ArtifactRejected

from ..vision.test_policy_registry import _folder, _prefer, _seq_onnx
from .test_refusals import wait_error


def _publish_policy(fleet, version: str, action: str, channel="stable"):
    folder = _folder(fleet.tmp, version, _seq_onnx(_prefer(action)))
    return fleet.registry().publish("models", "ui-policy", folder, channel=channel,
                                    sign=signing.signer(fleet.sign_key))


def _policies(lines) -> list:
    return [e["policy"] for e in lines.events() if "policy" in e]


def test_policy_folder_is_applied_through_arc_serve_and_a_tampered_one_is_refused(fleet):
    _publish_policy(fleet, "p-1", "act")
    fleet.serve()
    agent = fleet.agent("vision-1", ARC_PATTERNS="", ARC_VISION_POLICY="registry:ui-policy")
    assert agent.wait_for(lambda s: '"policy": "p-1"' in s, 60), agent.proc.stderr.read()[-2000:]
    _publish_policy(fleet, "p-2", "zoom")
    assert agent.wait_for(lambda s: '"policy": "p-2"' in s, 30), agent.proc.stderr.read()[-2000:]

    shown = json.loads(fleet.cli("fleet", "--url", fleet.url, "--json").stdout)
    record = next(a for a in shown["agents"] if a["instance_id"] == "vision-1")
    assert {"kind": "models", "name": "ui-policy", "channel": "stable", "version": "2"} in \
        record["status"]["in_use"]

    man = _publish_policy(fleet, "p-3", "wait", channel=None)
    reg = fleet.registry()
    onnx_file = os.path.join(reg.root, "models", "ui-policy", "versions", "3", man.artifact, "policy.onnx")
    os.chmod(onnx_file, 0o644)
    with open(onnx_file, "r+b") as fh:  # same size, one byte different: only the digest can tell
        first = fh.read(1)
        fh.seek(0)
        fh.write(bytes([first[0] ^ 1]))
    state = reg.channel("models", "ui-policy")
    channels.write(os.path.join(reg.root, "models", "ui-policy", "channels", "stable.json"),
                   state.moved("promote", 3, state.previous + [state.version]))
    error = wait_error(fleet, "models/ui-policy@3")
    assert "sha256" in error and "does not match the manifest" in error, error

    summary = fleet.finish(agent)
    assert summary["failures"] == 0
    assert _policies(agent) == [None, "p-1", "p-2"]
    assert summary["status"]["in_use"] == {"models/ui-policy@stable": 2}
    assert summary["status"]["counters"]["rejected"] >= 1


LINKS_AND_DIRS = (tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE)


def _tar(entries) -> bytes:
    """A tar of (name, file bytes or one of LINKS_AND_DIRS) entries, as a hostile server could send."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data in LINKS_AND_DIRS:
                info.type, info.linkname = data, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_pack_is_deterministic_and_the_agent_verifies_the_unpacked_folder(tmp_path):
    source = Registry(str(tmp_path / "server"))
    man = source.publish("models", "ui-policy", _folder(tmp_path, "p-1", _seq_onnx(_prefer("act"))))
    path = source.verified("models", "ui-policy", 1)[1]
    packed = []
    for _ in range(2):
        buf = io.BytesIO()
        archive.pack(path, buf)
        packed.append(buf.getvalue())
    assert packed[0] == packed[1] and len(packed[0]) <= archive.max_download(man.size)

    mirror = Registry(str(tmp_path / "mirror"))
    (tmp_path / "good.tar").write_bytes(packed[0])
    assert archive.unpack(str(tmp_path / "good.tar"), str(tmp_path / "good"), man.size, man.ref) == 2
    assert mirror.install(man, str(tmp_path / "good"))
    assert mirror.verified("models", "ui-policy", 1)[0].sha256 == man.sha256

    with tarfile.open(fileobj=io.BytesIO(packed[0])) as tar:  # same names and sizes, one byte changed
        files = {m.name: tar.extractfile(m).read() for m in tar}
    files["policy.onnx"] = bytes([files["policy.onnx"][0] ^ 1]) + files["policy.onnx"][1:]
    (tmp_path / "bad.tar").write_bytes(_tar(sorted(files.items())))
    archive.unpack(str(tmp_path / "bad.tar"), str(tmp_path / "bad"), man.size, man.ref)
    other = Registry(str(tmp_path / "mirror2"))
    with pytest.raises(ArtifactRejected, match=r"models/ui-policy@1: artifact sha256 .* does not match"):
        other.install(man, str(tmp_path / "bad"))
    assert other.versions("models", "ui-policy") == []


@pytest.mark.parametrize("entries, message", [
    ([("../evil", b"x")], "leaves the artifact folder"),
    ([("a/../../evil", b"x")], "leaves the artifact folder"),
    ([("/tmp/evil", b"x")], "absolute or malformed path"),
    ([("link", tarfile.SYMTYPE)], "not a regular file"),
    ([("hard", tarfile.LNKTYPE)], "not a regular file"),
    ([("sub", tarfile.DIRTYPE)], "not a regular file"),
    ([(".hidden", b"x")], "is hidden"),
    ([("a", b"x"), ("a", b"y")], "appears twice"),
    ([("a", b"x"), ("a/b", b"y")], "runs through a file"),
    ([("big", b"x" * 11)], "more than the manifest's 10 bytes"),
])
def test_hostile_archives_are_refused_and_write_nothing_outside(tmp_path, entries, message):
    (tmp_path / "in.tar").write_bytes(_tar(entries))
    dest = tmp_path / "box" / "out"
    with pytest.raises(ArtifactRejected, match=message):
        archive.unpack(str(tmp_path / "in.tar"), str(dest), 10, "models/x@1")
    assert not (tmp_path / "box" / "evil").exists() and not (tmp_path / "evil").exists()
