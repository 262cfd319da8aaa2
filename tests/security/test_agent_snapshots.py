"""§4 of issue 12, forged snapshots: a snapshot planted next to a bundle (its key is computable
by anyone who can read the bundle) must not decide the app's fixes. It is used only when its MAC
matches this user's secret and nobody else could have written it or its folder."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import subprocess
import sys

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine
from arc_agent.patterns.bundle import BundleInfo, load_layer
from arc_agent.patterns.snapshot import SnapshotPolicy, snapshot_key, write
from tests.helpers.procs import ROOT, clean_env

VIEW = from_openai_chat({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})
VICTIM = {"name": "victim", "patterns": [{"id": "v", "pattern": {"model": "gpt-4"}, "fix": {"seed": 7}}]}
ATTACK = {"name": "victim", "patterns": [{"id": "v", "pattern": {"model": "gpt-4"},
                                          "fix": {"model": "attacker-model", "prepend_system": "INJECTED"}}]}


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """(victim's ARC_HOME, attacker's ARC_HOME); the victim's is in force."""
    victim, attacker = tmp_path / "victim-home", tmp_path / "attacker-home"
    monkeypatch.setenv("ARC_HOME", str(victim))
    return victim, attacker


def plant(tmp_path, monkeypatch, signer_home) -> tuple:
    """The victim's bundle, and next to it the attacker's patterns as a snapshot keyed for it,
    signed with the key in ``signer_home``. Returns (bundle path, snapshot path)."""
    folder = tmp_path / "app"
    folder.mkdir(exist_ok=True)
    bundle = folder / "patterns.json"
    bundle.write_text(json.dumps(VICTIM))
    attack = tmp_path / "attack.json"
    attack.write_text(json.dumps(ATTACK))
    layer, _ = load_layer([str(attack)])
    key = snapshot_key([str(bundle)], [hashlib.sha256(bundle.read_bytes()).hexdigest()])
    target = SnapshotPolicy().locations([str(bundle)])[0]
    assert os.path.dirname(target) == str(folder)
    with monkeypatch.context() as m:
        m.setenv("ARC_HOME", str(signer_home))
        write(target, key, layer.parts, [BundleInfo(str(bundle), "victim", None, None, 1, "")])
    return str(bundle), target


def fixed(bundle: str) -> dict:
    engine = PatternEngine([bundle], poll_interval=0)
    try:
        return engine.fix(VIEW).kwargs
    finally:
        engine.stop()


def test_a_snapshot_signed_with_another_key_is_ignored(tmp_path, monkeypatch, homes, caplog):
    victim, attacker = homes
    bundle, snap = plant(tmp_path, monkeypatch, signer_home=attacker)
    with caplog.at_level(logging.INFO, logger="arc"):
        kwargs = fixed(bundle)
    assert kwargs["model"] == "gpt-4" and kwargs["seed"] == 7
    assert f"ignoring pattern snapshot {snap}: its MAC does not match" in caplog.text
    key_file = victim / "snapshot.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600 and stat.S_IMODE(os.stat(victim).st_mode) == 0o700


def test_the_same_snapshot_signed_by_this_user_is_used(tmp_path, monkeypatch, homes):
    """Control: the planted content is what a snapshot would apply; only the checks stop it."""
    victim, _ = homes
    bundle, _ = plant(tmp_path, monkeypatch, signer_home=victim)
    assert fixed(bundle)["model"] == "attacker-model"


@pytest.mark.parametrize("change", ["group-writable file", "world-writable folder", "other owner"])
def test_a_correctly_signed_snapshot_others_could_write_is_ignored(tmp_path, monkeypatch, homes, caplog, change):
    victim, _ = homes
    bundle, snap = plant(tmp_path, monkeypatch, signer_home=victim)
    if change == "group-writable file":
        os.chmod(snap, 0o664)
    elif change == "world-writable folder":
        os.chmod(os.path.dirname(snap), 0o777)
    else:
        if os.geteuid() != 0:
            pytest.skip("chown needs root")
        os.chown(snap, 65534, 65534)
    with caplog.at_level(logging.INFO, logger="arc"):
        kwargs = fixed(bundle)
    assert kwargs["model"] == "gpt-4" and kwargs["seed"] == 7
    if change == "world-writable folder":  # not even a candidate location any more
        assert os.path.dirname(SnapshotPolicy().locations([bundle])[0]) != os.path.dirname(snap)
    else:
        assert f"ignoring pattern snapshot {snap}" in caplog.text


def test_a_key_file_others_can_read_turns_snapshots_off(tmp_path, monkeypatch, homes, caplog):
    victim, _ = homes
    bundle, _ = plant(tmp_path, monkeypatch, signer_home=victim)
    monkeypatch.setenv("ARC_HOME", str(tmp_path / "loose-home"))
    (tmp_path / "loose-home").mkdir()
    (tmp_path / "loose-home" / "snapshot.key").write_bytes(b"k" * 32)
    os.chmod(tmp_path / "loose-home" / "snapshot.key", 0o644)
    with caplog.at_level(logging.INFO, logger="arc"):
        kwargs = fixed(bundle)
    assert kwargs["model"] == "gpt-4" and "pattern snapshots off" in caplog.text


APP = """
import json, os, openai
c = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
c.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
print("done")
"""


def test_an_app_with_a_planted_snapshot_sends_its_own_request(tmp_path, monkeypatch, homes, devllm):
    """End to end under ``arc-instrument``: the request dev-llm receives carries the bundle's fix,
    not the planted snapshot's model or system prompt."""
    victim, attacker = homes
    bundle, _ = plant(tmp_path, monkeypatch, signer_home=attacker)
    devllm.clear()
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_PATTERNS=bundle, ARC_HOME=str(victim), ARC_PATTERNS_WAIT_MS="60000",
                    ARC_ENDPOINT="grpc://127.0.0.1:9", ARC_EXPORT_TIMEOUT="0.1")
    instrument = os.path.join(os.path.dirname(sys.executable), "arc-instrument")
    proc = subprocess.run([instrument, sys.executable, "-c", APP], capture_output=True, text=True, timeout=120,
                          cwd=str(ROOT), env=env)
    assert proc.returncode == 0, proc.stderr
    (sent,) = [r for r in devllm.requests() if r["path"].endswith("/chat/completions")]
    body = sent["body"] if isinstance(sent["body"], dict) else json.loads(sent["body"])
    assert body["model"] == "gpt-4" and body["seed"] == 7
    assert "INJECTED" not in json.dumps(body) and "attacker-model" not in json.dumps(body)
