"""``arc doctor`` loads the UI tool policy and confidence model the settings name, as the agent would:
a missing folder is a misconfiguration (exit 1), a canary share without a registry policy and a
channel not published yet are warnings, a published policy is named with its version."""

from __future__ import annotations

import os
import stat
import subprocess

from arc_agent.registry import Registry
from arc_agent.vision.model import SHIPPED_DIR
from tests.helpers.collector import arc_command
from tests.helpers.procs import ROOT, clean_env

from .test_policy_registry import _folder, _prefer, _seq_onnx


def _doctor(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(arc_command("doctor", "--timeout", "0.2"), env=clean_env(**env), capture_output=True,
                          text=True, timeout=60, cwd=str(ROOT))


def _section(out: str) -> list:
    lines = out.split("UI tool policy and confidence model\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in lines.splitlines()]


def test_doctor_names_a_missing_policy_folder_and_a_canary_without_registry(tmp_path):
    proc = _doctor(ARC_VISION_POLICY_DIR=str(tmp_path / "missing"), ARC_VISION_POLICY_CANARY="0.1",
                   ARC_VISION_MODEL_DIR=SHIPPED_DIR)
    assert proc.returncode == 1, proc.stdout
    section = _section(proc.stdout)
    assert "warn ARC_VISION_POLICY_CANARY=0.1 has no effect: it needs ARC_VISION_POLICY=registry:NAME" in section
    assert (f"BAD  ARC_VISION_POLICY_DIR={tmp_path}/missing: folder '{tmp_path}/missing' does not exist; "
            "the agent uses the seed rule") in section
    assert any(line.startswith(f"ok   ARC_VISION_MODEL_DIR={SHIPPED_DIR}: version ") for line in section)


def test_doctor_loads_a_published_policy_and_warns_of_an_unset_canary(tmp_path):
    root = tmp_path / "registry"
    Registry(str(root)).publish("models", "ui-policy", _folder(tmp_path, "p-1", _seq_onnx(_prefer("act"))),
                                channel="stable")
    proc = _doctor(ARC_REGISTRY=str(root), ARC_VISION_POLICY="registry:ui-policy", ARC_VISION_POLICY_CANARY="0.5")
    assert proc.returncode == 0, proc.stdout
    first, second = _section(proc.stdout)
    assert first.startswith(f"ok   ARC_VISION_POLICY=registry:ui-policy in registry {root}: version p-1 loads")
    assert second.startswith("warn ARC_VISION_POLICY_CANARY=0.5: models/ui-policy@canary: channel not set")

    onnx_path = os.path.join(Registry(str(root)).verified("models", "ui-policy", 1)[1], "policy.onnx")
    os.chmod(onnx_path, stat.S_IRUSR | stat.S_IWUSR)
    with open(onnx_path, "r+b") as fh:  # bytes changed under the published version: refused, not "not yet"
        fh.write(b"X")
    tampered = _doctor(ARC_REGISTRY=str(root), ARC_VISION_POLICY="registry:ui-policy")
    assert tampered.returncode == 1 and _section(tampered.stdout)[0].startswith(
        f"BAD  ARC_VISION_POLICY=registry:ui-policy in registry {root}: "), tampered.stdout


def test_arc_instrument_help_names_the_ui_settings():
    from tests.helpers.procs import ARC_INSTRUMENT

    out = subprocess.run([ARC_INSTRUMENT, "--help"], capture_output=True, text=True, timeout=30).stdout
    for name in ("ARC_PRIVACY_MODE=TIER", "ARC_HEAL=0", "ARC_VISION_POLICY=registry:NAME"):
        assert f"\n  {name} " in out, out
