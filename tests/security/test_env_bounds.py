"""Absurd ``OTEL_BSP_*`` and span-limit values cost no span of Arc's own pipeline: each is replaced
by the SDK's default with one error line naming the variable, never a traceback, never a queue or
delay without bound."""

from __future__ import annotations

import pytest

from tests.helpers.procs import clean_env, run

APP = """
import os, openai
c = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
for _ in range(3):
    c.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
"""

CASES = [
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "-3"}, "OTEL_BSP_MAX_QUEUE_SIZE=-3 is outside"),
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "0"}, "OTEL_BSP_MAX_QUEUE_SIZE=0 is outside"),
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "1000000000000"}, "OTEL_BSP_MAX_QUEUE_SIZE=1000000000000 is outside"),
    ({"OTEL_BSP_SCHEDULE_DELAY": "1e15"}, "OTEL_BSP_SCHEDULE_DELAY='1e15' is not an integer"),
    ({"OTEL_BSP_SCHEDULE_DELAY": "99999999999"}, "OTEL_BSP_SCHEDULE_DELAY=99999999999 is outside"),
    ({"OTEL_BSP_EXPORT_TIMEOUT": "99999999999"}, "OTEL_BSP_EXPORT_TIMEOUT=99999999999 is outside"),
    ({"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "5000", "OTEL_BSP_MAX_QUEUE_SIZE": "100"},
     "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=5000 is above the queue size (100)"),
    ({"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "-1"}, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT='-1' is not a non-negative"),
    ({"OTEL_ATTRIBUTE_COUNT_LIMIT": "lots"}, "OTEL_ATTRIBUTE_COUNT_LIMIT='lots' is not a non-negative"),
]


@pytest.mark.parametrize("extra,message", CASES, ids=[next(iter(c[0].items()))[0] + "=" + next(iter(c[0].values()))
                                                      for c in CASES])
def test_a_bad_sdk_variable_costs_no_span(receiver, devllm, extra, message):
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=f"grpc://127.0.0.1:{receiver.port}", **extra)
    proc = run(["python", "-c", APP], env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(receiver.wait_for(3)) == 3
    assert message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_a_pattern_poll_interval_of_nanoseconds_is_raised_to_the_floor(tmp_path, caplog):
    """``ARC_PATTERNS_POLL=1e-9`` made the watcher stat() the bundle in a tight loop in the app's
    process (~20 % of a core); 0 still turns hot reload off."""
    from arc_agent.patterns.engine import MIN_POLL_SECONDS, PatternEngine

    bundle = tmp_path / "b.json"
    bundle.write_text('{"patterns": []}')
    engine = PatternEngine.from_env({"ARC_PATTERNS": str(bundle), "ARC_PATTERNS_POLL": "1e-9"})
    try:
        assert engine.poll_interval == MIN_POLL_SECONDS
        assert "ARC_PATTERNS_POLL=1e-09 is below" in caplog.text
    finally:
        engine.stop()
    assert PatternEngine.from_env({"ARC_PATTERNS": str(bundle), "ARC_PATTERNS_POLL": "0"}).poll_interval == 0
