"""Per-call overhead of ``chat.completions.create``: bare SDK vs Arc vs OTel's openai-v2 instrumentation.

All three run in one process, interleaved in rounds (so machine noise hits them alike), over an
in-process ``httpx2.MockTransport`` (no network), with spans going to the same SDK TracerProvider +
BatchSpanProcessor + a dropping exporter. Prints p50/p99 per call and the ratios vs bare.

    python benchmarks/overhead.py [--rounds 20] [--calls 300] [--patterns BUNDLE] [--stream]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import httpx2
import openai
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

BODY = json.dumps({
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
}).encode()
STREAM = b"".join(
    b"data: " + json.dumps(c).encode() + b"\n\n" for c in [
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in ("Hel", "lo", "!")
    ] + [{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
          "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]) + b"data: [DONE]\n\n"


class DropExporter(SpanExporter):
    def export(self, spans):
        return SpanExportResult.SUCCESS


def handler(request: httpx2.Request) -> httpx2.Response:
    if b'"stream":true' in request.content or b'"stream": true' in request.content:
        return httpx2.Response(200, content=STREAM, headers={"content-type": "text/event-stream"})
    return httpx2.Response(200, content=BODY, headers={"content-type": "application/json"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--patterns", help="pattern bundle to load into Arc (e.g. a 1M-pattern file)")
    ap.add_argument("--stream", action="store_true", help="measure stream=True calls, consumed fully")
    ap.add_argument("--arc-provider", choices=("own", "app"), default="own",
                    help="own: Arc's default pipeline (its own provider); "
                         "app: the app installed an SDK TracerProvider and Arc goes through it")
    args = ap.parse_args()

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DropExporter(), max_queue_size=1 << 16))
    if args.arc_provider == "app":
        trace.set_tracer_provider(provider)

    from arc_agent import Arc
    from arc_agent.runtime import get_runtime
    from arc_agent.telemetry import tracing

    t = time.perf_counter()
    arc = Arc(patterns=args.patterns) if args.patterns else Arc()
    setup_s = time.perf_counter() - t
    if args.arc_provider == "own":
        # Arc's own pipeline (its provider, sampler, counting processor, SDK BatchSpanProcessor), but
        # its exporter drops each batch as the DropExporter OTel gets does (no collector here)
        tracing.get_tracer()
        if tracing.exporter() is not None:
            tracing.exporter().export = DropExporter().export
    runtime = get_runtime()
    try:
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        peer = OpenAIInstrumentor()
    except ImportError:
        peer = None
        print("note: opentelemetry-instrumentation-openai-v2 not installed; OTel column skipped")

    client = openai.OpenAI(api_key="sk-bench", base_url="http://bench.local/v1", max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    msgs = [{"role": "user", "content": "Say hello"}]

    def one() -> None:
        if args.stream:
            for _ in client.chat.completions.create(model="gpt-4o-mini", messages=msgs, temperature=0.5,
                                                    stream=True):
                pass
        else:
            client.chat.completions.create(model="gpt-4o-mini", messages=msgs, temperature=0.5)

    def use(variant: str) -> None:
        runtime.unpatch_all()
        if peer is not None and peer.is_instrumented_by_opentelemetry:
            peer.uninstrument()
        if variant == "arc":
            runtime.patch_integration("openai")
        elif variant == "otel":
            peer.instrument(tracer_provider=provider)

    variants = ["bare", "arc"] + (["otel"] if peer is not None else [])
    samples: dict = {v: [] for v in variants}
    for v in variants:  # warm-up
        use(v)
        for _ in range(50):
            one()
    for r in range(args.rounds):
        for v in (variants if r % 2 == 0 else variants[::-1]):
            use(v)
            xs = samples[v]
            for _ in range(args.calls):
                t0 = time.perf_counter_ns()
                one()
                xs.append(time.perf_counter_ns() - t0)
    use("bare")
    arc.shutdown()

    def pct(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))] / 1000

    base50, base99 = pct(samples["bare"], 0.5), pct(samples["bare"], 0.99)
    print(f"chat.completions.create{' (stream)' if args.stream else ''}, {args.rounds} rounds x {args.calls} "
          f"calls per variant, Arc provider: {args.arc_provider}"
          f"{', patterns: ' + args.patterns if args.patterns else ''}")
    if args.patterns:
        print(f"Arc set-up incl. pattern load: {setup_s:.2f} s")
    # the mean too: work Arc moves off the app's thread (span ends) still takes the GIL from it in a
    # CPU-bound loop like this one, in a few calls (p99 and mean) rather than in every call (p50)
    base_mean = statistics.mean(samples["bare"]) / 1000
    print(f"{'variant':8} {'p50 µs':>9} {'p99 µs':>9} {'p50 ratio':>10} {'p99 ratio':>10} {'Δp50 µs':>8} "
          f"{'mean µs':>8} {'mean ratio':>10}")
    for v in variants:
        p50, p99, mean = pct(samples[v], 0.5), pct(samples[v], 0.99), statistics.mean(samples[v]) / 1000
        print(f"{v:8} {p50:9.1f} {p99:9.1f} {p50 / base50:10.3f} {p99 / base99:10.3f} {p50 - base50:8.1f} "
              f"{mean:8.1f} {mean / base_mean:10.3f}")
    print(f"Arc makes kept spans off the app's thread: {os.environ.get('ARC_SPANS_OFF_THREAD', '1')}")


if __name__ == "__main__":
    main()
