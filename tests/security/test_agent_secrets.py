"""§5 of issue 12 (agent side): URL credentials in ``ARC_ENDPOINT`` never reach a log, doctor's
report or the status endpoint; UI fingerprints on disk are private (0600)."""

from __future__ import annotations

import base64
import os
import socket
import stat
import subprocess
import sys

import pytest

from arc_agent.telemetry.endpoint import redact, resolve
from arc_agent.vision.fingerprint import Fingerprint, FingerprintStore
from tests.helpers.procs import ROOT, clean_env, run

SECRET = "pw-SECRET-in-url-77"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_url_credentials_leave_the_target_and_the_messages():
    e = resolve(f"grpc://arc:{SECRET}@127.0.0.1:4317", environ={})
    assert e.target == "127.0.0.1:4317" and SECRET not in e.describe() + repr(e)
    assert redact(f"grpcs://u:{SECRET}@h:1/p") == "grpcs://***@h:1/p" and redact(f"u:{SECRET}@h:1") == "***@h:1"
    with pytest.raises(ValueError, match="unsupported scheme") as bad:
        resolve(f"ftp://u:{SECRET}@h:1", environ={})
    assert SECRET not in str(bad.value)


APP = """
import json, os, openai
c = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
c.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
print(json.dumps({"ok": True}))
"""


def test_an_app_with_credentials_in_arc_endpoint_logs_no_secret(receiver, devllm):
    """Spans reach the collector; with the collector unreachable, the outage and exit warnings
    name the endpoint without its credentials."""
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=f"grpc://arc:{SECRET}@127.0.0.1:{receiver.port}",
                    ARC_LOG_LEVEL="DEBUG")
    proc = run(["python", "-c", APP], env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(receiver.wait_for(1)) == 1
    basic = "Basic " + base64.b64encode(f"arc:{SECRET}".encode()).decode()
    assert receiver.metadata[-1]["authorization"] == basic  # the credentials, as a header
    assert SECRET not in proc.stdout + proc.stderr
    env["ARC_ENDPOINT"] = f"grpc://arc:{SECRET}@127.0.0.1:{_closed_port()}"
    env["ARC_EXPORT_TIMEOUT"] = "0.2"
    proc = run(["python", "-c", APP], env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "grpc://127.0.0.1:" in proc.stderr and "unreachable" in proc.stderr, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


def test_doctor_shows_the_endpoint_without_its_credentials():
    env = clean_env(ARC_ENDPOINT=f"grpc://arc:{SECRET}@127.0.0.1:{_closed_port()}",
                    ARC_QUERY_URL=f"http://reader:{SECRET}@127.0.0.1:{_closed_port()}",
                    ARC_EXPORT_TIMEOUT="not-a-number")
    out = subprocess.run([sys.executable, "-m", "arc_agent.cli", "doctor"], env=env, capture_output=True,
                         text=True, timeout=60, cwd=str(ROOT))
    assert "ARC_ENDPOINT='grpc://***@127.0.0.1:" in out.stdout, out.stdout
    assert SECRET not in out.stdout + out.stderr


def test_fingerprints_file_is_private(tmp_path):
    path = tmp_path / "blobs" / "fingerprints.jsonl"
    store = FingerprintStore(path=str(path))
    store.put("https://shop.example/cart", "#buy", Fingerprint(tag="button", text="Buy now"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    os.chmod(path, 0o644)  # left broad by an older version: narrowed on the next write
    store.put("https://shop.example/cart", "#pay", Fingerprint(tag="button", text="Pay"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text().splitlines()) == 2


def test_credentials_sent_in_clear_beyond_this_machine_are_warned_about(devllm):
    """A bearer key over plaintext gRPC to another host crosses the network readable: say so (once,
    without the key); over loopback, nothing to say."""
    key = "collector-key-SECRET-0042"
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_API_KEY=key, ARC_EXPORT_TIMEOUT="0.2",
                    ARC_ENDPOINT=f"grpc://198.51.100.1:{_closed_port()}")  # TEST-NET-2 address
    proc = run(["python", "-c", APP], env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("go unencrypted to grpc://198.51.100.1:") == 1, proc.stderr
    assert key not in proc.stderr
    env["ARC_ENDPOINT"] = f"grpc://127.0.0.1:{_closed_port()}"
    proc = run(["python", "-c", APP], env, timeout=60)
    assert "unencrypted" not in proc.stderr, proc.stderr
