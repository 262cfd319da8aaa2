"""Nothing of Arc blocks or sleeps on the app's event loop (issue 13 item 3), checked without clocks.

The real workload (1,000 concurrent AsyncOpenAI calls against dev-llm, every span exported over real
gRPC by Arc) runs with an audit on the loop's thread: every blocking primitive called there (sleep,
select, socket and file I/O, Event/Condition waits, joins, blocking queue operations, and a lock
taken by Arc's own code) is traced back to whoever called it, and none may be Arc. The audit must see
the loop's own blocking calls (so it was on), and must catch a 0.1 ms sleep injected into Arc's span
path. The wall-clock lag comparison (bare vs Arc) is ``benchmarks/loop_lag.py``."""

import sys
from pathlib import Path

import pytest

from arc_agent.devllm import DevLLMServer
from tests.helpers.procs import clean_env, run_json

APP = str(Path(__file__).parent / "apps" / "loop_audit_app.py")
N = 1000


@pytest.fixture(scope="module")
def slow_devllm():
    with DevLLMServer(port=0, delay_ms=300) as srv:  # holds each reply: all calls are in flight at once
        yield srv


def run(devllm, receiver, n: int, **env) -> dict:
    e = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, **env)
    out = run_json([sys.executable, APP, str(n)], e, timeout=300)
    assert out["calls"] == n
    return out


def test_no_arc_frame_blocks_the_event_loop(slow_devllm, receiver):
    out = run(slow_devllm, receiver, N)
    assert out["seen"]["blocking_checked"] > 50, out  # the loop's own selects: the audit was on
    assert out["violations"] == [], out["violations"]
    receiver.wait_for(N + 1, timeout=60)  # Arc was on: every call was exported


def test_the_audit_catches_a_sleep_in_arcs_span_path(slow_devllm, receiver):
    out = run(slow_devllm, receiver, 20, LOOP_AUDIT_INJECT_SLEEP="1")
    assert out["violation_count"] >= 20, out
    assert out["violations"] == ["time.sleep from llm/call.py:2 (finish)"], out["violations"]
