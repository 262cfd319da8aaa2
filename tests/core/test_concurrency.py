"""Parenting under asyncio concurrency and threads: each span is a child of its own caller's span."""

import json
import re


def _check(out, spans, n, word):
    parents = out["result"]["parents"]
    assert len(parents) == n and len(spans) == n
    assert len({s.span_id for s in spans}) == n
    for s in spans:  # the prompt names the task; its span's parent must be that task's span
        prompt = json.loads(s.attributes["gen_ai.input.messages"])[0]["content"]
        i = re.fullmatch(rf"{word} (\d+)", prompt).group(1)
        assert s.parent_span_id == parents[i], f"span for {prompt} has the wrong parent"


def test_1000_concurrent_async_calls_parented_to_their_task(run_app, receiver):
    out = run_app("concurrent", N_CALLS="1000", OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    _check(out, receiver.wait_for(1000, timeout=60), 1000, "task")


def test_threads_parented_to_their_thread(run_app, receiver):
    out = run_app("threads", OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    _check(out, receiver.wait_for(40), 40, "thread")
