"""A real app under ``arc-instrument`` with ``ARC_PATTERNS=registry:NAME@CHANNEL`` (as the environment
gives it: ``:``-separated) follows the channel: the requests dev-llm receives change with promote
and rollback, and a corrupt version changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from arc_agent.devllm import DevLLMServer
from arc_agent.registry import Registry, channels
from tests.helpers.procs import ARC_INSTRUMENT, ROOT, clean_env

from .conftest import bundle_file, tamper, wait_for

_APP = textwrap.dedent("""
    import sys
    import openai
    client = openai.OpenAI(base_url=sys.argv[1], api_key="sk-test", max_retries=0)
    for line in sys.stdin:
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
        print("called", flush=True)
""")


@pytest.fixture
def devllm():
    with DevLLMServer(port=0) as srv:
        yield srv


def test_instrumented_app_follows_the_channel(tmp_path, devllm):
    registry = Registry(str(tmp_path / "registry"))
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "fixes.json", 11), channel="canary")
    env = clean_env(ARC_PATTERNS="registry:fixes@canary", ARC_REGISTRY=registry.root, ARC_PATTERNS_POLL="0.05",
                    ARC_PATTERNS_SNAPSHOT="off", ARC_ENDPOINT="grpc://127.0.0.1:9", ARC_EXPORT_TIMEOUT="0.2",
                    ARC_PATTERNS_WAIT_MS="60000")  # a registry set loads in the background
    app = subprocess.Popen([ARC_INSTRUMENT, sys.executable, "-c", _APP, devllm.openai_base_url], env=env,
                           cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)

    errors: list = []

    def pump_stderr() -> None:
        for line in app.stderr:
            errors.append(line)

    reader = threading.Thread(target=pump_stderr, daemon=True)
    reader.start()

    def seed_sent() -> object:
        app.stdin.write("call\n")
        app.stdin.flush()
        assert app.stdout.readline() == "called\n", "".join(errors)
        return devllm.requests("/v1/chat/completions")[-1]["body"].get("seed")

    try:
        assert seed_sent() == 11
        registry.publish("patterns", "fixes", bundle_file(tmp_path, "fixes.json", 22), channel="canary")
        assert wait_for(lambda: seed_sent() == 22)
        # version 3 is corrupted, then the pointer moves to it unverified (a half-synced copy)
        bad = registry.publish("patterns", "fixes", bundle_file(tmp_path, "fixes.json", 33))
        tamper(os.path.join(registry.root, "patterns", "fixes", "versions", str(bad.version), "fixes.json"))
        state = registry.channel("patterns", "fixes", "canary")
        channels.write(os.path.join(registry.root, "patterns", "fixes", "channels", "canary.json"),
                       state.moved("promote", bad.version, state.previous + [state.version]))
        assert wait_for(lambda: "does not match the manifest" in "".join(errors))
        assert seed_sent() == 22
        assert registry.rollback("patterns", "fixes", "canary").version == 2
        registry.promote("patterns", "fixes", 1, "canary")
        assert wait_for(lambda: seed_sent() == 11)
    finally:
        app.stdin.close()
        app.wait(timeout=30)
    reader.join(timeout=10)
    assert app.returncode == 0, "".join(errors)
