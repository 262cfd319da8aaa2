"""An app using the real openai SDK, run by the telemetry tests under ``arc-instrument``.

Usage: python guard_app.py SCENARIO [N]  (DEVLLM_URL = dev-llm base URL). Prints progress lines and,
last, one JSON line with what happened and Arc's status. Scenarios that need the test to act in
the middle print ``WAITING <what>`` and read one line from stdin.
"""

import json
import os
import sys
import time

import openai

from arc_agent import state
from arc_agent.llm.fixer import FixOutcome
from arc_agent.runtime import get_runtime
from arc_agent.telemetry import attributes as A
from arc_agent.telemetry import guards, tracing

URL = os.environ.get("DEVLLM_URL", "")
SECRET = "sk-test-SECRET-do-not-leak-123"
MSGS = [{"role": "user", "content": "Say hello"}]
FIXED_TEMPERATURE = 0.123


class TestFixer:
    """Fixes model 'fixme' (temperature -> 0.123, pattern id 'test-fix'); can be made slow."""

    active = True

    def __init__(self) -> None:
        self.calls = 0
        self.delay_s = 0.0

    def fix(self, view):
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        if view.kwargs.get("model") == "fixme":
            kwargs = dict(view.kwargs, temperature=FIXED_TEMPERATURE)
            return FixOutcome(kwargs, {A.ARC_PATTERN_MATCHED: True, A.ARC_FIX_PATTERN_IDS: ("test-fix",)})
        return None


FIXER = TestFixer()
FIXER.active = os.environ.get("GUARD_FIXER") != "off"  # off: no pattern loaded, as by default
state.RUNTIME.fixer = FIXER


def new_client() -> openai.OpenAI:
    return openai.OpenAI(api_key=SECRET, base_url=URL + "/v1", max_retries=0)


CLIENT = new_client()


def in_child() -> None:
    """A forked child must not share the parent's pooled HTTP connections (true with or without Arc)."""
    global CLIENT
    CLIENT = new_client()


def chat(model: str) -> bool:
    """One chat call; False if it raised (models 'fail-NNN' make dev-llm answer NNN)."""
    try:
        CLIENT.chat.completions.create(model=model, messages=MSGS)
        return True
    except openai.APIError:
        return False


def wait_for_test(what: str) -> None:
    print(f"WAITING {what}", flush=True)
    sys.stdin.readline()


def status() -> dict:
    info = get_runtime().status()
    info["guards"] = guards.GUARDS.status()
    return info


def numbered(n: int) -> dict:
    """n calls, models m-0 .. m-(n-1): span order is checkable."""
    for i in range(n):
        chat(f"m-{i}")
    tracing.force_flush()
    return {}


def outage(n: int) -> dict:
    """n calls while the collector is down, then n more after the test brought it up."""
    for i in range(n):
        chat(f"m-{i}")
    tracing.force_flush(timeout_s=2)  # the export attempt happens now, while the collector is down
    wait_for_test("collector-up")
    for i in range(n, 2 * n):
        chat(f"m-{i}")
    flush_all()
    return {}


def flush_all() -> None:
    """Processor queue, then the exporter's backlog (the drainer may be backing off)."""
    tracing.force_flush()  # drains both


def breaker(n: int) -> dict:
    """Slow fixer until the breaker opens; then fast until it closes."""
    out = {"opened": False, "closed": False, "fixer_calls_while_open": 0, "calls_to_open": 0}
    FIXER.delay_s = 0.02
    deadline = time.monotonic() + 20
    while not state.RUNTIME.breaker_open and time.monotonic() < deadline:
        chat("slow")
        out["calls_to_open"] += 1
    out["opened"] = state.RUNTIME.breaker_open
    FIXER.delay_s = 0.0
    before = FIXER.calls
    for _ in range(5):
        chat("while-open")
    out["fixer_calls_while_open"] = FIXER.calls - before
    deadline = time.monotonic() + 20
    while state.RUNTIME.breaker_open and time.monotonic() < deadline:
        chat("while-open")
        time.sleep(0.01)
    out["closed"] = not state.RUNTIME.breaker_open
    before = FIXER.calls
    chat("after-close")
    out["fixer_calls_after_close"] = FIXER.calls - before
    return out


def queue_breaker(n: int) -> dict:
    """Collector down: call until the telemetry backlog opens the breaker; the test brings the
    collector up; call until the breaker closes."""
    out = {}
    deadline = time.monotonic() + 30
    while not state.RUNTIME.breaker_open and time.monotonic() < deadline:
        chat("queued")
        time.sleep(0.005)
    out["opened"] = state.RUNTIME.breaker_open
    wait_for_test("collector-up")
    deadline = time.monotonic() + 30
    while state.RUNTIME.breaker_open and time.monotonic() < deadline:
        chat("draining")
        time.sleep(0.01)
    out["closed"] = not state.RUNTIME.breaker_open
    tracing.force_flush()
    return out


def _mix_model(i: int) -> tuple:
    """The sampling scenarios' call mix: an error and a fixed call every 10th, the rest plain."""
    return ("fail-500", "errors") if i % 10 == 3 else ("fixme", "fixed") if i % 10 == 7 else ("plain", "plain")


def _counters_seen(out: dict) -> dict:
    from arc_agent.telemetry.guards import GUARDS

    if GUARDS.calls is not None:  # ARC_METRICS_PORT: what the metrics counters saw
        snap = GUARDS.calls.snapshot()
        out["requests"] = {"/".join(k): v for k, v in snap["requests"].items()}
        out["latency_count"] = sum(snap["buckets"])
    return out


SAMPLED_ENOUGH = 200  # calls the sampler must have seen while active, for the test's rate check


def _burst_goes_on(i: int, n: int) -> bool:
    """At least n calls, and on until the sampler has seen SAMPLED_ENOUGH calls while active:
    the calls before its first active window depend on the machine's speed, not on Arc."""
    if i < n:
        return True
    sampler = guards.GUARDS.sampler
    return sampler is not None and i < 20 * n and sampler.status()["considered"] < SAMPLED_ENOUGH


def sampling(n: int) -> dict:
    """A burst of at least n calls of the mix (``_burst_goes_on``); all run fast."""
    out = {"plain": 0, "errors": 0, "fixed": 0, "calls": 0}
    while _burst_goes_on(out["calls"], n):
        model, kind = _mix_model(out["calls"])
        chat(model)
        out[kind] += 1
        out["calls"] += 1
    return _counters_seen(out)


def sampling_async(n: int) -> dict:
    """``sampling`` through ``AsyncOpenAI``."""
    import asyncio

    async def run() -> dict:
        client = openai.AsyncOpenAI(api_key=SECRET, base_url=URL + "/v1", max_retries=0)
        out = {"plain": 0, "errors": 0, "fixed": 0, "calls": 0}
        while _burst_goes_on(out["calls"], n):
            model, kind = _mix_model(out["calls"])
            try:
                await client.chat.completions.create(model=model, messages=MSGS)
            except openai.APIError:
                pass
            out[kind] += 1
            out["calls"] += 1
        await client.close()
        return out

    return _counters_seen(asyncio.run(run()))


def metrics(n: int) -> dict:
    """A known mix of calls, flushed; then the test scrapes while the app waits."""
    import anthropic

    for _ in range(n):
        chat("plain")
    for _ in range(2):
        chat("fail-500")
    for _ in range(3):
        chat("fixme")
    CLIENT.embeddings.create(model="text-embedding-3-small", input="hello")
    anthropic.Anthropic(api_key=SECRET, base_url=URL, max_retries=0).messages.create(
        model="claude-sonnet-4-5", max_tokens=16, messages=MSGS)
    tracing.force_flush()
    print(json.dumps(status()), flush=True)
    wait_for_test("scrape")
    return {}


def fork_os(n: int) -> dict:
    """Calls in the parent, then in an os.fork() child that exits normally, then in the parent."""
    for _ in range(n):
        chat("parent-before")
    pid = os.fork()
    if pid == 0:
        in_child()
        for _ in range(n):
            chat("child-os")
        sys.exit(0)  # a normal exit: Arc flushes the child's spans
    for _ in range(n):
        chat("parent-after")
    _, code = os.waitpid(pid, 0)
    return {"child_exit": code}


def _mp_child(i: int, n: int) -> None:
    in_child()
    for _ in range(n):
        chat(f"child-mp-{i}")


def fork_mp(n: int) -> dict:
    """multiprocessing 'fork' children (they end in os._exit, atexit never runs) export their spans."""
    import multiprocessing

    chat("parent-before")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_mp_child, args=(i, n)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    return {"exit_codes": [p.exitcode for p in procs]}


def fork_outage(n: int) -> dict:
    """Fork while the parent holds a backlog (collector down): the child must not resend it."""
    for _ in range(n):
        chat("parent-before")
    tracing.force_flush()
    pid = os.fork()
    if pid == 0:
        in_child()
        for _ in range(n):
            chat("child")
        wait_for_test("collector-up")
        sys.exit(0)
    wait_for_test("collector-up")
    _, code = os.waitpid(pid, 0)
    chat("parent-after")
    return {"child_exit": code}


def steady(n: int) -> dict:
    """n calls at a steady pace (the test kills/restarts the collector meanwhile), then a pause; then
    wait (bounded) until everything buffered has been delivered."""
    from arc_agent.telemetry.stats import STATS

    for i in range(n):
        chat(f"m-{i}")
        time.sleep(0.005)
    wait_for_test("done")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tracing.force_flush()
        if STATS.buffered_spans == 0:
            break
        time.sleep(0.05)
    return {}


def fork_busy(n: int) -> dict:
    """Fork n children while another thread keeps exporting (a fork can land mid-gRPC-call)."""
    import threading

    stop = threading.Event()

    def background() -> None:
        client = new_client()
        while not stop.is_set():
            client.chat.completions.create(model="background", messages=MSGS)
            tracing.force_flush()  # an export in flight as often as possible

    thread = threading.Thread(target=background)
    thread.start()
    codes = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            in_child()
            chat(f"busy-child-{i}")
            sys.exit(0)
        codes.append(os.waitpid(pid, 0)[1])
    stop.set()
    thread.join()
    return {"child_exits": codes}


def fork_mid_send(n: int) -> dict:
    """Fork while Arc's export thread is inside a send the collector does not answer (the test sets a long
    ARC_EXPORT_TIMEOUT): the app's fork must not wait for that send to time out."""
    import threading

    for _ in range(n):
        chat("parent-before")
    threading.Thread(target=tracing.force_flush, daemon=True).start()  # blocks in the send
    exporter = tracing.pipeline()[2]
    deadline = time.monotonic() + 30
    while exporter.inflight_spans == 0:  # the send is under way (the export lock is held)
        assert time.monotonic() < deadline, "no send started"
        time.sleep(0.001)
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, code = os.waitpid(pid, 0)
    return {"child_exit": code}


SCENARIOS = {f.__name__: f for f in (numbered, outage, breaker, sampling, sampling_async, metrics, fork_os, fork_mp,
                                      fork_outage, fork_busy, steady, queue_breaker, fork_mid_send)}

if __name__ == "__main__":
    name = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    result = SCENARIOS[name](count)
    result["status"] = status()
    result["fixer_calls"] = FIXER.calls
    print(json.dumps(result, default=str), flush=True)
