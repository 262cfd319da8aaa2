"""An app stopped the way production stops one, run by tests/telemetry/test_stop.py under arc-instrument.

Usage: python stop_app.py MODE N MODEL  (DEVLLM_URL = dev-llm base URL)
  plain    N calls, print READY, idle until a signal ends it (default handlers)
  handler  same with its own handler for SIGTERM/SIGINT/SIGHUP: prints HANDLED <sig>, exits 7
  handler-timed  handler, and prints AT_EXIT from an exit hook registered before Arc activates (at
           exit hooks run last-registered first, so after Arc's own): the end of Arc's part of the stop
  status   N calls, then Arc's own bounded stop (``tracing.shutdown``, as ``Arc.shutdown()`` does),
           print READY and idle: its status endpoint then shows the spans dropped at exit
  ignore   like plain, with SIGHUP set to SIG_IGN by the app
  pool     N calls in a 2-process multiprocessing Pool (used as a context manager: its exit
           terminates the workers with SIGTERM), model MODEL-pool, then N in a ProcessPoolExecutor,
           model MODEL-executor; exits 0
The model name tags the spans, so a test can count them in the collector.
"""

import atexit
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor

MODE, N, MODEL = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if MODE == "handler-timed":  # before ``import openai`` activates Arc
    atexit.register(print, "AT_EXIT", flush=True)
    MODE = "handler"

import openai  # noqa: E402 - Arc activates here


def call(i: int, model: str = MODEL) -> str:
    client = openai.OpenAI(base_url=os.environ["DEVLLM_URL"] + "/v1", api_key="sk-stop", max_retries=0)
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": f"call {i}"}])
    return f"{os.getpid()}"


def pool_call(i: int) -> str:
    return call(i, MODEL + "-pool")


def executor_call(i: int) -> str:
    return call(i, MODEL + "-executor")


def on_signal(sig, frame) -> None:
    print(f"HANDLED {signal.Signals(sig).name}", flush=True)
    sys.exit(7)


if MODE == "pool":
    import multiprocessing

    with multiprocessing.Pool(2) as pool:
        pids = set(pool.map(pool_call, range(N)))
    with ProcessPoolExecutor(2) as executor:
        pids |= set(executor.map(executor_call, range(N)))
    print("DONE", len(pids), flush=True)
    sys.exit(0)

if MODE == "handler":  # installed after Arc's activation (import openai): the app sees only its own
    defaults = {signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.default_int_handler,
                signal.SIGHUP: signal.SIG_DFL}
    for sig, default in defaults.items():
        assert signal.getsignal(sig) is default, (sig, signal.getsignal(sig))
        assert signal.signal(sig, on_signal) is default
        assert signal.signal(sig, on_signal) is on_signal and signal.getsignal(sig) is on_signal
if MODE == "ignore":  # SIGHUP ignored by the app stays ignored
    assert signal.signal(signal.SIGHUP, signal.SIG_IGN) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
for i in range(N):
    call(i)
if MODE == "status":
    from arc_agent.telemetry import tracing

    tracing.shutdown()
print("READY", flush=True)
while True:
    time.sleep(3600)  # idle until the test's signal
