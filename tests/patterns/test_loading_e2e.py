"""End to end: a real app under ``arc-instrument`` with a big compiled set (real openai SDK over HTTP
to ``arc dev-llm``, spans to a real ``arc collector``). ``import openai`` returns before the set is
loaded (a status, not a timing); the call made meanwhile is sent unfixed and its span says
``arc.fix.skipped_reason = loading``; once ready, calls are fixed; with ``ARC_PATTERNS_WAIT_MS`` the
very first call is fixed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from arc_agent.devllm import DevLLMServer
from tests.helpers.collector import CollectorProcess
from tests.helpers.procs import ARC_INSTRUMENT, ROOT, clean_env

from .test_background_load import write_set

N = 100_000  # loads in well over the few milliseconds between `import openai` and the first call

APP = """
import json, os, sys
import openai
from arc_agent.patterns import startup
ready_at_import = startup.wait_ready(0)
client = openai.OpenAI(base_url=os.environ["DEVLLM_URL"] + "/v1", api_key="sk-test", max_retries=0)
ask = dict(model="gpt-4", temperature=0.95, messages=[{"role": "user", "content": "JSON please"}])
client.chat.completions.create(**ask)
ready = startup.wait_ready(300)
client.chat.completions.create(**ask)
print(json.dumps({"ready_at_import": ready_at_import, "ready": ready}))
"""


@pytest.fixture(scope="module")
def big_compiled(tmp_path_factory):
    return write_set(tmp_path_factory.mktemp("e2e"), N)


@pytest.fixture
def devllm():
    with DevLLMServer(port=0) as srv:
        yield srv


def run_app(devllm, collector, compiled_set: str, service: str, **extra: str) -> dict:
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_PATTERNS=compiled_set, ARC_PATTERNS_POLL="0",
                    OTEL_EXPORTER_OTLP_ENDPOINT=collector.otlp_endpoint, ARC_EXPORT_DELAY_MS="50",
                    OTEL_SERVICE_NAME=service, **extra)
    proc = subprocess.run([ARC_INSTRUMENT, sys.executable, "-c", APP], env=env, cwd=str(ROOT), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sent_temperatures(devllm) -> list:
    return [r["body"]["temperature"] for r in devllm.requests("/v1/chat/completions")]


def spans(collector, service: str) -> list:
    assert collector.wait_for_count(f"SELECT count() FROM otel_traces WHERE ServiceName = '{service}'", 2) == 2
    rows = collector.query("SELECT SpanAttributes['arc.fix.applied'] AS applied, "
                           "SpanAttributes['arc.fix.skipped_reason'] AS skipped "
                           f"FROM otel_traces WHERE ServiceName = '{service}' ORDER BY Timestamp")
    return [(r["applied"], r["skipped"]) for r in rows]


def test_calls_before_the_compiled_set_is_ready_go_unfixed_and_say_so(big_compiled, devllm, tmp_path):
    with CollectorProcess(tmp_path / "store") as collector:
        out = run_app(devllm, collector, big_compiled, "loading-app")
        assert out == {"ready_at_import": False, "ready": True}
        assert sent_temperatures(devllm) == [0.95, 0.7]  # the first call unfixed, the second fixed
        rows = spans(collector, "loading-app")
    assert rows == [("false", "loading"), ("true", "")]


def test_wait_ms_makes_the_first_call_fixed(big_compiled, devllm, tmp_path):
    with CollectorProcess(tmp_path / "store") as collector:
        out = run_app(devllm, collector, big_compiled, "waiting-app", ARC_PATTERNS_WAIT_MS="120000")
        assert out == {"ready_at_import": False, "ready": True}
        assert sent_temperatures(devllm) == [0.7, 0.7]
        rows = spans(collector, "waiting-app")
    assert rows == [("true", ""), ("true", "")]


FORK_APP = """
import json, os
import openai
from arc_agent.patterns import startup
pid = os.fork()  # a worker forked while the set is still loading (gunicorn --preload style)
ready = startup.wait_ready(300)
client = openai.OpenAI(base_url=os.environ["DEVLLM_URL"] + "/v1", api_key="sk-test", max_retries=0)
client.chat.completions.create(model="gpt-4", temperature=0.95, messages=[{"role": "user", "content": "JSON"}])
if pid == 0:
    os._exit(0 if ready else 3)
_, status = os.waitpid(pid, 0)
print(json.dumps({"parent_ready": ready, "child_exit": os.waitstatus_to_exitcode(status)}))
"""


def test_a_worker_forked_while_loading_loads_the_set_too(big_compiled, devllm):
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_PATTERNS=big_compiled, ARC_PATTERNS_POLL="0",
                    ARC_ENDPOINT="grpc://127.0.0.1:9", ARC_EXPORT_TIMEOUT="0.1")
    proc = subprocess.run([ARC_INSTRUMENT, sys.executable, "-c", FORK_APP], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"parent_ready": True, "child_exit": 0}
    assert sent_temperatures(devllm) == [0.7, 0.7]  # both processes' calls fixed
