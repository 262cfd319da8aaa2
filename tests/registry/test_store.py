"""Publishing, channels and verification of the registry, on real files."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from arc_agent.registry import ArtifactRejected, Registry, RegistryError

from .conftest import bundle_file, tamper


def test_publish_numbers_versions_and_writes_a_manifest(registry, tmp_path):
    src = bundle_file(tmp_path, "fixes.json", 1)
    first = registry.publish("patterns", "fixes", src, {"note": "hand-written"}, metrics={"lift": 3.5},
                             job_id="job-7")
    second = registry.publish("patterns", "fixes", bundle_file(tmp_path, "fixes.json", 2))
    assert (first.version, first.parent, second.version, second.parent) == (1, None, 2, 1)
    data = open(src, "rb").read()
    man, path = registry.verified("patterns", "fixes", 2)
    assert man == second and open(path, "rb").read() == data
    assert (man.sha256, man.size, man.artifact, man.artifact_type) == (
        hashlib.sha256(data).hexdigest(), len(data), "fixes.json", "file")
    stored = json.load(open(os.path.join(os.path.dirname(path), "manifest.json")))
    assert stored["kind"] == "patterns" and stored["name"] == "fixes" and stored["version"] == 2
    assert stored["created"].endswith("Z") and stored["signature"] is None
    assert registry.manifest("patterns", "fixes", 1).metrics == {"lift": 3.5}
    assert registry.manifest("patterns", "fixes", 1).job_id == "job-7"
    assert registry.manifest("patterns", "fixes", 1).metadata == {"note": "hand-written"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert stat.S_IMODE(os.stat(registry.root).st_mode) == 0o700
    assert registry.versions("patterns", "fixes") == [1, 2]


def test_a_published_version_is_never_replaced(registry, tmp_path):
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "a.json", 1))
    before = registry.verified("patterns", "fixes", 1)
    squatter = os.path.join(registry.root, "patterns", "fixes", "versions", "2")
    os.makedirs(squatter)
    open(os.path.join(squatter, "keep"), "w").close()
    assert registry.publish("patterns", "fixes", bundle_file(tmp_path, "b.json", 2)).version == 3
    assert os.listdir(squatter) == ["keep"]
    with pytest.raises(ArtifactRejected, match="manifest.json is missing"):
        registry.verified("patterns", "fixes", 2)
    assert registry.verified("patterns", "fixes", 1) == before
    assert os.listdir(os.path.join(registry.root, "patterns", "fixes", ".staging")) == []


def test_promote_rollback_and_history(registry, tmp_path):
    for seed in (1, 2, 3):
        registry.publish("patterns", "fixes", bundle_file(tmp_path, "f.json", seed), channel="canary")
    assert registry.channel("patterns", "fixes") is None
    with pytest.raises(RegistryError, match="channel not set"):
        registry.resolve("patterns", "fixes")
    registry.promote("patterns", "fixes", 1)
    assert registry.promote("patterns", "fixes", from_channel="canary").version == 3
    assert registry.resolve("patterns", "fixes")[0].version == 3
    state = registry.rollback("patterns", "fixes")
    assert (state.version, state.previous) == (1, [])
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        registry.rollback("patterns", "fixes")
    assert [(m["action"], m["from"], m["to"]) for m in registry.history("patterns", "fixes")] == [
        ("promote", None, 1), ("promote", 1, 3), ("rollback", 3, 1)]
    canary = registry.channel("patterns", "fixes", "canary")
    assert (canary.version, canary.previous) == (3, [1, 2])
    assert registry.rollback("patterns", "fixes", "canary").version == 2
    assert registry.list() == [{"kind": "patterns", "name": "fixes", "versions": 3, "latest": 3,
                                "channels": {"canary": 2, "stable": 1}, "shares": {}}]
    with pytest.raises(RegistryError, match="no such version"):
        registry.promote("patterns", "fixes", 9)


def test_corrupt_or_mismatching_versions_are_rejected_and_never_promoted(registry, tmp_path):
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "f.json", 1), channel="stable")
    man = registry.publish("patterns", "fixes", bundle_file(tmp_path, "f.json", 2))
    folder = os.path.join(registry.root, "patterns", "fixes", "versions", "2")
    tamper(os.path.join(folder, "f.json"))
    with pytest.raises(ArtifactRejected, match=r"size \d+ does not match the manifest.s \d+"):
        registry.verified("patterns", "fixes", 2)
    with pytest.raises(ArtifactRejected):
        registry.promote("patterns", "fixes", 2)
    assert registry.resolve("patterns", "fixes")[0].version == 1  # the pointer did not move
    # same size, other bytes: only the sha256 tells
    path = os.path.join(folder, "f.json")
    data = open(path, "rb").read()[:man.size]
    with open(path, "wb") as fh:
        fh.write(data.replace(b"2", b"7"))
    with pytest.raises(ArtifactRejected, match="sha256"):
        registry.verified("patterns", "fixes", 2)


@pytest.mark.parametrize("edit, problem", [
    (lambda m: "{not json", "not valid JSON"),
    (lambda m: json.dumps({**m, "version": 1}), "names patterns/fixes@1"),
    (lambda m: json.dumps({**m, "sha256": "x"}), "sha256 is not 64"),
    (lambda m: json.dumps({**m, "size": "12"}), "'size' has the wrong type"),
    (lambda m: json.dumps({**m, "extra": 1}), "unknown fields"),
    (lambda m: json.dumps({**m, "artifact": "../../x"}), "bad artifact entry"),
    (lambda m: json.dumps({**m, "metrics": {"pad": "x" * 300_000}}), "larger than"),
    (lambda m: "[" * 100_000 + "]" * 100_000, "not valid JSON"),
])
def test_bad_manifests_are_rejected_with_a_clear_error(registry, tmp_path, edit, problem):
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "f.json", 1))
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "f.json", 2))
    path = os.path.join(registry.root, "patterns", "fixes", "versions", "2", "manifest.json")
    manifest = json.load(open(path))
    os.chmod(path, 0o644)
    with open(path, "w") as fh:
        fh.write(edit(manifest))
    with pytest.raises(ArtifactRejected, match=problem):
        registry.verified("patterns", "fixes", 2)


def test_bad_channel_pointer_is_rejected(registry, tmp_path):
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "f.json", 1), channel="stable")
    pointer = os.path.join(registry.root, "patterns", "fixes", "channels", "stable.json")
    with open(pointer, "w") as fh:
        fh.write('{"kind": "patterns", "name": "fixes", "channel": "stable", "version": -1, "updated": ""}')
    with pytest.raises(ArtifactRejected, match="bad channel pointer"):
        registry.resolve("patterns", "fixes")


def test_directory_artifacts_pin_every_file(registry, tmp_path):
    model = tmp_path / "policy"
    (model / "sub").mkdir(parents=True)
    (model / "model.onnx").write_bytes(b"\x08\x01onnx")
    (model / "sub" / "meta.json").write_text('{"inputs": 3}')
    (model / ".cache").write_text("not part of the artifact")
    man = registry.publish("models", "ui-policy", str(model), metrics={"success": 0.9}, channel="canary")
    assert (man.artifact_type, man.size, man.artifact) == ("dir", 19, "policy")
    got, path = registry.resolve("models", "ui-policy", "canary")
    assert open(os.path.join(path, "sub", "meta.json")).read() == '{"inputs": 3}'
    assert not os.path.exists(os.path.join(path, ".cache"))
    open(os.path.join(path, ".arc-snapshot"), "w").close()  # a cache written beside the files
    assert registry.resolve("models", "ui-policy", "canary") == (got, path)
    tamper(os.path.join(path, "sub", "meta.json"))
    with pytest.raises(ArtifactRejected):
        registry.resolve("models", "ui-policy", "canary")


def test_symlinks_names_and_private_root_are_checked(registry, tmp_path):
    target = bundle_file(tmp_path, "real.json", 1)
    os.symlink(target, tmp_path / "link.json")
    with pytest.raises(ArtifactRejected, match="symlinks are refused"):
        registry.publish("patterns", "fixes", str(tmp_path / "link.json"))
    for kind, name, channel in (("patterns", "../up", None), ("bundles", "x", None), ("patterns", ".hidden", None),
                                ("patterns", "ok", "Stable!")):
        with pytest.raises(RegistryError, match="bad|unknown"):
            registry.publish(kind, name, target, channel=channel)
    with pytest.raises(RegistryError, match="no such file"):
        registry.publish("patterns", "fixes", str(tmp_path / "missing.json"))
    with pytest.raises(RegistryError, match="JSON values|NaN|Out of range"):
        registry.publish("patterns", "fixes", target, metrics={"bad": float("nan")})
    registry.publish("patterns", "fixes", target)
    os.chmod(registry.root, 0o777)
    with pytest.raises(RegistryError, match="writable by other users"):
        registry.versions("patterns", "fixes")
    with pytest.raises(RegistryError, match="writable by other users"):
        Registry(registry.root).resolve("patterns", "fixes")


def test_signed_payload_leaves_out_the_signature(registry, tmp_path):
    man = registry.publish("patterns", "fixes", bundle_file(tmp_path, "f.json", 1), signature="c2ln")
    payload = json.loads(man.signed_payload())
    assert "signature" not in payload and payload["sha256"] == man.sha256
    assert registry.manifest("patterns", "fixes", 1).signature == "c2ln"


def test_channel_history_is_bounded(registry, tmp_path):
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "f.json", 1))
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "f.json", 2))
    for i in range(130):
        registry.promote("patterns", "fixes", 1 + i % 2)
    state = registry.channel("patterns", "fixes")
    assert len(state.moves) == 100 and len(state.previous) == 100


def test_canary_share_lives_in_the_canary_pointer(registry, tmp_path):
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "a.json", 1), channel="stable")
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "b.json", 2), channel="canary")
    assert registry.channel("patterns", "fixes", "canary").share is None
    state = registry.promote("patterns", "fixes", channel="canary", from_channel="canary", share=0.25)
    assert (state.version, state.share, state.previous) == (2, 0.25, [])
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "c.json", 3))
    moved = registry.promote("patterns", "fixes", 3, "canary", share=0.5)
    assert (moved.version, moved.share, moved.previous) == (3, 0.5, [2])
    assert registry.rollback("patterns", "fixes", "canary").share == 0.5, "a move keeps the share"
    assert registry.list()[0]["shares"] == {"canary": 0.5}
    assert registry.describe("patterns", "fixes", channel="canary")["channels"]["canary"]["share"] == 0.5
    with pytest.raises(RegistryError, match="bad canary share 1.5"):
        registry.promote("patterns", "fixes", 2, "canary", share=1.5)
    with pytest.raises(RegistryError, match="a share is set on the canary channel only"):
        registry.promote("patterns", "fixes", 2, "stable", share=0.1)
    path = os.path.join(registry.root, "patterns", "fixes", "channels", "canary.json")
    raw = json.load(open(path))
    raw["share"] = "all"
    json.dump(raw, open(path, "w"))
    with pytest.raises(ArtifactRejected, match="bad channel pointer"):
        registry.channel("patterns", "fixes", "canary")


def test_accept_stores_the_next_number_only_and_checks_the_bytes(tmp_path):
    import dataclasses

    from arc_agent.registry.errors import VersionTaken

    reg = Registry(str(tmp_path / "root"), tenant="acme")
    first = reg.publish("patterns", "fixes", bundle_file(tmp_path, "a.json", 1))
    src = bundle_file(tmp_path, "b.json", 2)
    data = open(src, "rb").read()
    man = dataclasses.replace(first, version=2, parent=1, sha256=hashlib.sha256(data).hexdigest(), size=len(data))

    def upload() -> str:
        path = str(tmp_path / "upload")
        with open(path, "wb") as fh:
            fh.write(data)
        return path

    with pytest.raises(VersionTaken, match="the next version of patterns/fixes is 2"):
        reg.accept(dataclasses.replace(man, version=1), upload())
    with pytest.raises(ArtifactRejected, match="names tenant 'other'"):
        reg.accept(dataclasses.replace(man, tenant="other"), upload())
    with pytest.raises(ArtifactRejected, match="does not match the manifest"):
        reg.accept(dataclasses.replace(man, sha256="0" * 64), upload())
    assert reg.versions("patterns", "fixes") == [1] and reg.verified("patterns", "fixes", 1)[0] == first
    assert reg.accept(man, upload(), channel="canary") == man
    assert reg.verified("patterns", "fixes", 2)[0] == man and reg.channel("patterns", "fixes", "canary").version == 2
    with pytest.raises(VersionTaken):
        reg.accept(man, upload())
