"""Arc's CPU cost at 1,000 LLM calls/s: bare SDK vs Arc (100 % spans) vs Arc with dynamic sampling.

One app process makes ``--qps`` ``chat.completions.create`` calls per second from ``--threads``
threads for ``--seconds``, over an in-process ``httpx2.MockTransport`` (no network). Calls rotate
between the variants in blocks of ``--block`` calls (bare = the unwrapped SDK method), so load
swings on a shared machine hit every variant alike while each variant's own background export
work (which competes with the calls that follow it) lands mostly on its own calls; rotating call
by call would charge the 100 % variant's export work to whichever variant comes next. With one
thread (the default) each variant's sampler and observer are installed between calls, outside
the measured time, exactly as Arc installs them; with more threads a per-thread dispatch picks
them, its own cost is charged to Arc, and sampled-out calls take the full path instead of the
fast skip (a process-wide switch cannot follow the per-thread variant).

Per call, the calling thread's CPU time is measured; the span pipeline's CPU in the background
threads (batching, OTLP encoding, gRPC to a counting receiver in another process) is the process
CPU minus the callers' CPU, charged to the variants per exported span. Extra CPU per call =
(caller CPU - bare caller CPU) + spans per call x background CPU per span; the caller part is a
median per kind of call (sampled out, kept) weighted by its share (see ``extra_per_call``). Where Linux exposes
hardware counters, the same comparison is printed in retired instructions and cycles
(``hwcounters.py``): CPU time on a shared machine swings by more than the 1 % being measured,
instruction counts do not.

    python benchmarks/cpu_1k_qps.py [--qps 1000] [--seconds 10] [--threads 1] [--block 100] [--metrics]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

import httpx2
import openai
from hwcounters import open_counters, thread_ids

RECEIVER = r"""
import sys, threading
from concurrent import futures
import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
count = [0]
lock = threading.Lock()
class S(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request, context):
        n = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
        with lock:
            count[0] += n
        return trace_service_pb2.ExportTraceServiceResponse()
server = grpc.server(futures.ThreadPoolExecutor(4))
trace_service_pb2_grpc.add_TraceServiceServicer_to_server(S(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
for line in sys.stdin:
    print(count[0], flush=True)
"""

BODY = json.dumps({
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
}).encode()
MSGS = [{"role": "user", "content": "Say hello"}]


def handler(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, content=BODY, headers={"content-type": "application/json"})


def process_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def thread_cpu() -> dict:
    """{(tid, name): (user s, system s, on-CPU s)} of this process's threads, from /proc: user and
    system in 10 ms ticks, on-CPU time in ns (schedstat)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    for tid in thread_ids():
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                on_cpu = int(f.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            continue
        name = names.get(tid) or stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[(tid, name)] = (int(fields[11]) / tick, int(fields[12]) / tick, on_cpu)
    return out


def print_thread_cpu(before: dict, after: dict) -> None:
    """Background threads' CPU in the measured run (the callers are started within it, so absent)."""
    rows = []
    for key, (user, system, on_cpu) in after.items():
        u0, s0, c0 = before.get(key, (0.0, 0.0, 0.0))
        if on_cpu - c0 >= 0.0005:
            rows.append(f"{key[1]} {(on_cpu - c0) * 1e3:.0f} ms (user+system ticks {user - u0:.2f}+{system - s0:.2f}s)")
    print("CPU of the background threads in the measured run: " + (", ".join(rows) or "none"))


def by_kind(rows: list, j: int) -> list:
    """[(sampled out?, calls, median of column ``j``)] for each kind of call present in ``rows``."""
    out = []
    for kind in (True, False):
        values = [r[j] for r in rows if r[3] is kind]
        if values:
            out.append((kind, len(values), statistics.median(values)))
    return out


def extra_per_call(rows: list, base: float, j: int) -> float:
    """Mean extra of column ``j`` over the bare median, stratified: the median of each kind of call
    (sampled out / kept) weighted by its share. A plain median would report only the sampled-out
    calls of the sampled variant (nine in ten); a plain mean swings with rare process-wide events
    (a full GC pass, ~40M instructions, lands on one call in thousands, of any variant)."""
    return sum(n / len(rows) * (median - base) for _, n, median in by_kind(rows, j))


def print_hardware_counters(variants: list, per_variant: dict, spans_by_variant: dict, background_hw: tuple,
                            exported: int) -> None:
    """The same comparison in retired instructions and cycles (user space): instructions do not
    move with the machine's load, so this is the figure to compare between runs and machines."""
    bg_instr, bg_cycles = (x / max(1, exported) for x in background_hw)
    base_i = statistics.median(r[1] for r in per_variant["bare"])
    base_c = statistics.median(r[2] for r in per_variant["bare"])
    print(f"hardware counters: bare call {base_i / 1e3:.0f}k instructions, {base_c / 1e3:.0f}k cycles (medians); "
          f"background {bg_instr / 1e3:.1f}k instructions, {bg_cycles / 1e3:.1f}k cycles per exported span")
    print(f"{'variant':12} {'caller +instr':>14} {'export +instr':>14} {'+instr/call':>12} {'% of bare':>10} "
          f"{'caller +cyc':>12} {'export +cyc':>12} {'+cycles/call':>13} {'% of bare':>10}")
    for v in variants:
        rows = per_variant[v]
        spans_per_call = spans_by_variant[v] / len(rows) if v != "bare" else 0.0
        ci, cc = extra_per_call(rows, base_i, 1), extra_per_call(rows, base_c, 2)
        ei, ec = spans_per_call * bg_instr, spans_per_call * bg_cycles
        print(f"{v:12} {ci / 1e3:13.1f}k {ei / 1e3:13.1f}k {(ci + ei) / 1e3:11.1f}k {(ci + ei) / base_i * 100:9.2f}% "
              f"{cc / 1e3:11.1f}k {ec / 1e3:11.1f}k {(cc + ec) / 1e3:12.1f}k {(cc + ec) / base_c * 100:9.2f}%")


def print_by_kind(rows: list, bare: list) -> None:
    """The sampled variant's two kinds of call, each against the bare call (medians)."""
    base = [statistics.median(r[j] for r in bare) for j in (0, 1, 2)]
    columns = [by_kind(rows, j) for j in (0, 1, 2)]
    parts = []
    for (kind, n, us), (_, _, instr), (_, _, cyc) in zip(*columns):
        parts.append(f"{'sampled out' if kind else 'kept'} {n} calls: +{(us - base[0]) / 1000:.1f} µs, "
                     f"+{(instr - base[1]) / 1e3:.1f}k instructions, +{(cyc - base[2]) / 1e3:.1f}k cycles")
    print("sampled variant by kind of call (caller, medians vs bare): " + "; ".join(parts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qps", type=float, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--block", type=int, default=100, help="consecutive calls of one variant")
    ap.add_argument("--sample-qps", type=float, default=20,
                    help="ARC_SAMPLE_QPS of the sampled variant (it sees only its blocks' share of the calls)")
    ap.add_argument("--sample-rate", type=float, default=0.1, help="ARC_SAMPLE_RATE of the sampled variant")
    ap.add_argument("--variants", default="arc-100%,arc-sampled", help="Arc variants to compare with bare")
    ap.add_argument("--metrics", action="store_true", help="also measure Arc with the metrics counters on")
    ap.add_argument("--spans-on-app-thread", action="store_true",
                    help="ARC_SPANS_OFF_THREAD=0: make each kept span on the calling thread (the path before)")
    args = ap.parse_args()

    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
    port = int(receiver.stdout.readline())
    for key in [k for k in os.environ if k.startswith(("ARC_", "OTEL_"))]:
        del os.environ[key]
    if args.spans_on_app_thread:
        os.environ["ARC_SPANS_OFF_THREAD"] = "0"

    from openai.resources.chat.completions import Completions

    from arc_agent import Arc, state
    from arc_agent.telemetry import guards, tracing
    from arc_agent.telemetry.callstats import CallStats
    from arc_agent.telemetry.sampling import DynamicSampler
    from arc_agent.telemetry.stats import STATS

    arc = Arc(endpoint=f"grpc://127.0.0.1:{port}", log_level="WARNING")  # default guards: circuit breaker

    wrapped = Completions.create
    unwrapped = wrapped.__wrapped__
    variants = ["bare"] + [v for v in args.variants.split(",") if v != "bare"]
    variants += ["arc-metrics"] if args.metrics else []

    # per-thread variant switch: the sampler and observers are process-wide, the calls interleave
    local = threading.local()
    sampler = DynamicSampler(args.sample_qps, args.sample_rate)
    breaker = guards.GUARDS.breaker
    plain_observer = guards.make_observer(breaker, None, False)
    sampled_observer = guards.make_observer(breaker, None, True)
    metrics_observer = guards.make_observer(breaker, CallStats(), False)

    def sample() -> bool:
        return sampler() if local.variant == "arc-sampled" else True

    def observe(call, error: bool) -> None:
        v = local.variant
        (sampled_observer if v == "arc-sampled" else metrics_observer if v == "arc-metrics"
         else plain_observer)(call, error)

    sampled_out_hook = guards.make_sampled_out_hook(breaker)

    STATS.fast_skips = sampler.sampled_out  # as guards.py links Arc's own sampler
    sampled_out_total = STATS.sampled_out_total

    # variant -> (sampler, sampled-out hook, observer) as Arc's guards would install them
    installed = {"bare": (None, None, plain_observer), "arc-100%": (None, None, plain_observer),
                 "arc-sampled": (sampler, sampled_out_hook, sampled_observer),
                 "arc-metrics": (None, None, metrics_observer)}
    rt = state.RUNTIME
    one_thread = args.threads == 1
    if not one_thread:
        rt.sampler = sample
        rt.observers[:] = [observe]
    per_variant = {v: [] for v in variants}  # (caller CPU ns, instructions, cycles, sampled out?) per call

    def worker(k: int, seconds: float, record: bool, caller_cpu: list) -> None:
        client = openai.OpenAI(api_key="sk-bench", base_url="http://bench.local/v1", max_retries=0,
                               http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
        completions = client.chat.completions
        interval = args.threads / args.qps
        t0 = time.perf_counter()
        next_at, end = t0 + k * interval / args.threads, t0 + seconds
        own0 = time.thread_time()
        hw = open_counters() if record else None
        i = k
        while True:
            now = time.perf_counter()
            if now >= end:
                break
            if now < next_at:
                time.sleep(next_at - now)
            v = variants[(i // args.block) % len(variants)]
            i += 1
            local.variant = v
            if one_thread:
                rt.sampler, rt.on_sampled_out, rt.observers[:] = installed[v][0], installed[v][1], installed[v][2:]
                rt.skipper = installed[v][0]  # the sampler's fast skip, as guards.py installs it
            out0 = sampled_out_total()
            h0 = hw.read() if hw is not None else (0, 0)
            c0 = time.thread_time_ns()
            (unwrapped(completions, model="gpt-4o-mini", messages=MSGS, temperature=0.5) if v == "bare" else
             wrapped(completions, model="gpt-4o-mini", messages=MSGS, temperature=0.5))
            used = time.thread_time_ns() - c0
            h1 = hw.read() if hw is not None else (0, 0)
            if record:
                per_variant[v].append((used, h1[0] - h0[0], h1[1] - h0[1], sampled_out_total() != out0))
            next_at += interval
        caller_cpu.append(time.thread_time() - own0)
        if hw is not None:
            hw.close()

    def run(seconds: float, record: bool) -> tuple:
        caller_cpu: list = []
        # the threads alive now (main, span processor, gRPC): everything but the callers, started below
        background = [c for c in (open_counters(tid) for tid in thread_ids()) if c is not None]
        threads0 = thread_cpu()
        hw0 = [c.read() for c in background]
        cpu0, wall0, exported0 = process_cpu(), time.perf_counter(), STATS.exported_spans
        pool = [threading.Thread(target=worker, args=(k, seconds, record, caller_cpu)) for k in range(args.threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        tracing.force_flush()
        tracing.exporter().force_flush()
        hw1 = [c.read() for c in background]
        if record:
            print_thread_cpu(threads0, thread_cpu())
        for c in background:
            c.close()
        background_hw = tuple(sum(b[j] - a[j] for a, b in zip(hw0, hw1)) for j in (0, 1))
        return (process_cpu() - cpu0, sum(caller_cpu), time.perf_counter() - wall0,
                STATS.exported_spans - exported0, background_hw if background else None)

    run(1.0, record=False)  # warm-up: imports, gRPC channel, caches
    sampled_out0 = sampled_out_total()
    total_cpu, callers_cpu, wall, exported, background_hw = run(args.seconds, record=True)
    receiver.stdin.write("\n")
    receiver.stdin.flush()
    received = int(receiver.stdout.readline())
    arc.shutdown()
    receiver.stdin.close()
    receiver.wait(10)

    calls = sum(len(x) for x in per_variant.values())
    spans_by_variant = {v: len(per_variant[v]) for v in variants if v != "bare"}
    if "arc-sampled" in spans_by_variant:
        spans_by_variant["arc-sampled"] -= sampled_out_total() - sampled_out0
    background_per_span_us = (total_cpu - callers_cpu) / max(1, exported) * 1e6
    base_med = statistics.median(r[0] for r in per_variant["bare"]) / 1000
    base_mean = statistics.fmean(r[0] for r in per_variant["bare"]) / 1000
    print(f"{calls / wall:.0f} calls/s from {args.threads} thread(s) for {wall:.1f} s, variants rotating in blocks "
          f"of {args.block} calls; sampled variant: ARC_SAMPLE_QPS={args.sample_qps:g} "
          f"ARC_SAMPLE_RATE={args.sample_rate:g}")
    print(f"bare SDK call: {base_med:.0f} µs CPU (median), {base_mean:.0f} µs (mean); span pipeline in the "
          f"background: {background_per_span_us:.1f} µs CPU per exported span ({exported} spans)")
    print(f"{'variant':12} {'calls':>6} {'spans/call':>10} {'caller +µs':>11} {'export +µs':>11} "
          f"{'extra µs/call':>14} {'% of bare':>10} {'% core @1k/s':>13}")
    for v in variants:
        xs = per_variant[v]
        caller_extra = extra_per_call(xs, base_med * 1000, 0) / 1000
        spans_per_call = spans_by_variant[v] / len(xs) if v != "bare" else 0.0
        export_extra = spans_per_call * background_per_span_us
        extra = caller_extra + export_extra
        print(f"{v:12} {len(xs):6d} {spans_per_call:10.2f} {caller_extra:11.1f} {export_extra:11.1f} {extra:14.1f} "
              f"{extra / base_med * 100:9.1f}% {extra / 10:12.2f}%")
    print(f"(% core @1k/s = extra µs/call x 1,000 calls/s; the receiver got {received} spans incl. warm-up)")
    if background_hw is not None and all(r[1] for r in per_variant["bare"]):
        print_hardware_counters(variants, per_variant, spans_by_variant, background_hw, exported)
    else:
        print("(hardware counters unavailable here: perf_event_open refused)")
    if "arc-sampled" in per_variant:
        print_by_kind(per_variant["arc-sampled"], per_variant["bare"])
    print(f"sampler: {sampler.status()}")


if __name__ == "__main__":
    main()
