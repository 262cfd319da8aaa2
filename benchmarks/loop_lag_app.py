"""1,000 concurrent AsyncOpenAI calls while a ticker task measures the event loop's lag.

Usage: python loop_lag_app.py N   (DEVLLM_URL). Prints {"calls": N, "max_lag_ms": ..., "max_own_lag_ms": ...,
"p99_lag_ms": ...}. Run by ``benchmarks/loop_lag.py``.

A tick's lag is how much later than asked its sleep ended. Two parts of it are not the loop being
blocked and swing by tens of ms from run to run: time the loop's thread sat runnable in the kernel's
run queue waiting for a core (schedstat's second field; a shared machine), and the interpreter's
full garbage collections run on the loop's thread (a pass over the app's whole heap: 1,000 tasks).
``own`` lag leaves those two out, so what remains is the loop's own work plus any time its thread
was blocked (a sleep, a lock, the GIL held by another thread, a collection run by another thread):
what an agent could add. ``max_lag_ms`` is the raw figure.
"""

import asyncio
import gc
import json
import os
import sys
import threading
import time

import openai

TICK_S = 0.001


def run_queue_wait_s() -> float:
    """Time this thread has waited for a core so far (Linux schedstat), 0 where not available."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class LoopCollections:
    """Seconds spent in garbage collections run on the loop's thread (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.total = 0.0
        self._start = 0.0
        gc.callbacks.append(self.callback)

    def callback(self, phase: str, info: dict) -> None:
        if threading.get_ident() != self.thread:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


async def ticker(stop: asyncio.Event, lags: list, own: list) -> None:
    loop = asyncio.get_running_loop()
    collections = LoopCollections()
    while not stop.is_set():
        t, w, c = loop.time(), run_queue_wait_s(), collections.total
        await asyncio.sleep(TICK_S)
        lag = loop.time() - t - TICK_S
        lags.append(lag)
        own.append(lag - (run_queue_wait_s() - w) - (collections.total - c))


async def main(n: int) -> dict:
    client = openai.AsyncOpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0,
                                timeout=120)
    msgs = [{"role": "user", "content": "Say hello"}]
    await client.chat.completions.create(model="gpt-4", messages=msgs)  # warm: imports, connection, Arc set-up
    stop, lags, own = asyncio.Event(), [], []
    tick = asyncio.create_task(ticker(stop, lags, own))
    await asyncio.sleep(0.05)
    tasks = []
    for _ in range(n):  # all in flight at once (the server holds each reply), started one per loop turn
        tasks.append(asyncio.ensure_future(client.chat.completions.create(model="gpt-4", messages=msgs)))
        await asyncio.sleep(0)
    results = await asyncio.gather(*tasks)
    await asyncio.sleep(0.05)
    stop.set()
    await tick
    await client.close()
    lags.sort()
    return {"calls": len(results), "max_lag_ms": lags[-1] * 1000, "max_own_lag_ms": max(own) * 1000,
            "p99_lag_ms": lags[min(len(lags) - 1, int(0.99 * len(lags)))] * 1000, "ticks": len(lags)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1])))))
