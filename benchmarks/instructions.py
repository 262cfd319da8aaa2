"""Instructions per ``chat.completions.create`` on the app's thread, counted by callgrind (valgrind).

Why: CPU time on a shared machine swings by more than the percent being measured, and this VM has no
hardware counters (``hwcounters.py`` gets ENOENT); callgrind counts the same instructions on every run.
Each variant runs in its own ``valgrind --tool=callgrind`` process: warm-up calls, then ``--calls``
calls inside one ``functools.reduce``, the only code counted (``--toggle-collect=functools_reduce``),
main thread only (the span pipeline's thread is not counted), after ``gc.freeze()`` of the set-up's
objects (else whether one full collection of the whole heap falls in the window swings a variant by
~50k per call; collections of what the calls themselves allocate are counted). ~1-2 min per variant.

Variants: ``bare`` (the SDK method), ``arc`` (a kept call: Arc's own provider, every span kept,
its exporter dropping batches; its span is made and ended in Arc's span thread, not counted here),
``arc-sync`` (the same with ``ARC_SPANS_OFF_THREAD=0``: made on the app's thread),
``sdk-floor`` (bare call + one SDK span with Arc's attributes,
built by Arc's own functions, 3 at start and the rest in one ``set_attributes``, through a plain
``TracerProvider`` + ``BatchSpanProcessor``), ``sdk-empty`` (bare call + an SDK span with no
attribute), ``encode`` (the SDK's OTLP encoder on 512 spans like Arc's: per span, export thread work).

    python benchmarks/instructions.py [--variants bare,arc,arc-sync,sdk-floor,sdk-empty,encode] [--calls 40]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

BODY = json.dumps({
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
}).encode()


def child(variant: str, calls: int) -> None:
    """Runs under callgrind: set-up, warm-up, then the counted calls."""
    import functools
    import gc

    import httpx2
    import openai
    from openai.resources.chat.completions import Completions
    from opentelemetry import context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.trace import SpanKind

    from arc_agent import Arc
    from arc_agent.instrumentation import openai as integration
    from arc_agent.llm import call as llm_call
    from arc_agent.telemetry import tracing

    class Drop(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    if variant == "arc-sync":  # spans ended on the app's thread, as before telemetry/ending.py
        os.environ["ARC_SPANS_OFF_THREAD"] = "0"
    Arc(log_level="WARNING")
    tracing.get_tracer()
    exporter = tracing.exporter()

    def drop(spans):
        exporter.taken_spans += len(spans)  # as the real export would: the backlog count stays right
        return SpanExportResult.SUCCESS

    exporter.export = drop
    client = openai.OpenAI(api_key="sk-bench", base_url="http://bench.local/v1", max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(
                               lambda r: httpx2.Response(200, content=BODY,
                                                         headers={"content-type": "application/json"}))))
    completions = client.chat.completions
    kwargs = dict(model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}], temperature=0.5)
    bare = Completions.create.__wrapped__
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    tracer = provider.get_tracer("bench")
    start = llm_call._start_attributes(integration.CHAT, kwargs, False)

    def sdk_span(with_attributes: bool):
        span = tracer.start_span("chat gpt-4o-mini", context=context.get_current(), kind=SpanKind.CLIENT,
                                 attributes=start if with_attributes else None)
        result = bare(completions, **kwargs)
        if with_attributes:
            rest = llm_call.span_request_attributes(integration.CHAT, kwargs, completions, None, False)
            for key in start:
                rest.pop(key, None)
            rest.update(integration.chat_response_attributes(result))
            rest.update({"arc.outcome": "ok", "arc.interception.latency_us": 10})
            span.set_attributes(rest)
        span.end()

    if variant == "encode":
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        kept: list = []

        class Keep(SpanExporter):
            def export(self, spans):
                kept.extend(spans)
                return SpanExportResult.SUCCESS

        keep = TracerProvider()
        keep.add_span_processor(SimpleSpanProcessor(Keep()))
        attrs = llm_call.span_request_attributes(integration.CHAT, kwargs, completions, None, False)
        attrs.update(integration.chat_response_attributes(bare(completions, **kwargs)))
        attrs.update({"arc.outcome": "ok", "arc.interception.latency_us": 10})
        for _ in range(512):
            keep.get_tracer("arc_agent").start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attrs).end()
        encode_spans(kept).SerializeToString()
        gc.collect()
        gc.freeze()
        functools.reduce(lambda a, b: encode_spans(kept).SerializeToString(), range(calls + 1))
        print(json.dumps({"per": 512 * calls, "attributes": len(attrs)}))
        return
    one = {"bare": lambda: bare(completions, **kwargs),
           "arc": lambda: Completions.create(completions, **kwargs),
           "arc-sync": lambda: Completions.create(completions, **kwargs),
           "sdk-floor": lambda: sdk_span(True), "sdk-empty": lambda: sdk_span(False)}[variant]
    for _ in range(50):
        one()
    gc.collect()
    gc.freeze()  # the set-up's objects out of the collector's way: a full pass over them in the window
    functools.reduce(lambda a, b: one(), range(calls + 1))  # would weigh more than the call itself
    print(json.dumps({"per": calls}))


def measure(variant: str, calls: int) -> tuple:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        env = dict(os.environ, PYTHONHASHSEED="0")
        for key in [k for k in env if k.startswith(("ARC_", "OTEL_"))]:
            del env[key]
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=no", "--collect-atstart=no",
                               "--toggle-collect=functools_reduce", f"--callgrind-out-file={out}.%p",
                               sys.executable, __file__, "--child", variant, "--calls", str(calls)],
                              env=env, capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise SystemExit(f"{variant}: valgrind run failed\n{proc.stderr[-3000:]}")
        info = json.loads(lines[-1])
        total = 0
        for path in glob.glob(out + ".*"):
            with open(path) as f:
                for line in f:
                    if line.startswith("summary:"):
                        total += int(line.split()[1])
                        break
        return total / info["per"], info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="bare,arc,arc-sync,sdk-floor,sdk-empty,encode")
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.calls)
        return
    results = {}
    for variant in args.variants.split(","):
        per, info = measure(variant, 4 if variant == "encode" else args.calls)
        results[variant] = per
        base = results.get("bare")
        vs = f"  {per - base:+10.0f} vs bare ({(per - base) / base * 100:+.2f} %)" if base and variant != "bare" \
            and variant != "encode" else ""
        what = f"per span, {info['attributes']} attributes" if variant == "encode" else "per call"
        print(f"{variant:10} {per:12.0f} instructions {what}{vs}", flush=True)


if __name__ == "__main__":
    main()
