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

With ``--patterns SET`` Arc loads a pattern set first; ``arc-fixconst`` (the lookup replaced by its
non-matching result) and ``arc-noview`` (also no request view) split the fixer path by difference.
``--cache [LL]`` adds D1/LL misses (LL ``1048576,16,64``: this VM's L2, what a call refetches after the
SDK's work); ``--quiet`` makes small differences repeatable; ``--keep DIR`` leaves the files for
``callgrind_annotate``.

    python benchmarks/instructions.py [--variants bare,arc,arc-sync,sdk-floor,sdk-empty,encode] [--calls 40]
    python benchmarks/instructions.py --quiet --cache 1048576,16,64 --patterns SET \
        --variants arc,arc-fixconst,arc-noview
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

PATTERNS: str | None = None  # --patterns, absolute
CACHE_SIM: bool | str = False  # --cache [LL]
KEEP: str | None = None  # --keep DIR
QUIET = False  # --quiet
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
    patterns = os.environ.get("BENCH_PATTERNS")
    arc = Arc(log_level="WARNING", patterns=patterns) if patterns else Arc(log_level="WARNING")
    if patterns:
        from arc_agent.runtime import get_runtime

        engine = get_runtime().patterns
        if not engine.wait_loaded(600) or not engine.active:
            raise SystemExit(f"pattern set {patterns} did not load: {engine.last_error}")
        _ablate(variant, arc)
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
           "sdk-floor": lambda: sdk_span(True), "sdk-empty": lambda: sdk_span(False),
           "arc-fixconst": lambda: Completions.create(completions, **kwargs),
           "arc-noview": lambda: Completions.create(completions, **kwargs)}[variant]
    for _ in range(50):
        one()
    gc.collect()
    gc.freeze()  # the set-up's objects out of the collector's way: a full pass over them in the window
    if os.environ.get("BENCH_QUIET"):  # --quiet: no collection and no GIL hand-over in the window
        gc.disable()
        sys.setswitchinterval(100.0)
    functools.reduce(lambda a, b: one(), range(calls + 1))  # would weigh more than the call itself
    print(json.dumps({"per": calls, "blocks": sys.getallocatedblocks()}))


def _ablate(variant: str, arc) -> None:
    """``arc-fixconst``: the engine's lookup replaced by its non-matching result (a constant
    ``FixOutcome``), the request view still built; ``arc-noview``: the same without the view.
    What each step of the fixer path costs in situ, by difference to ``arc``."""
    if variant not in ("arc-fixconst", "arc-noview"):
        return
    from arc_agent import state
    from arc_agent.instrumentation import openai as integration
    from arc_agent.llm.fixer import FixOutcome

    engine = state.RUNTIME.fixer
    kwargs = dict(model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}], temperature=0.5)
    attributes = engine.fix(integration.CHAT.build_view(kwargs)).attributes

    class Const:
        active = True

        @staticmethod
        def fix(request):
            return FixOutcome(None, attributes)

    state.RUNTIME.fixer = Const()
    if variant == "arc-noview":
        integration.CHAT.build_view = lambda kwargs: None


def measure(variant: str, calls: int) -> tuple:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        env = dict(os.environ, PYTHONHASHSEED="0")
        for key in [k for k in env if k.startswith(("ARC_", "OTEL_"))]:
            del env[key]
        cache = (["--cache-sim=yes"] + ([f"--LL={CACHE_SIM}"] if CACHE_SIM is not True else [])) if CACHE_SIM else []
        if PATTERNS:
            env["BENCH_PATTERNS"] = PATTERNS
        if QUIET:
            env["BENCH_QUIET"] = "1"
        proc = subprocess.run(["valgrind", "--tool=callgrind", *cache, "--dump-instr=no", "--collect-atstart=no",
                               "--toggle-collect=functools_reduce", f"--callgrind-out-file={out}.%p",
                               sys.executable, __file__, "--child", variant, "--calls", str(calls)],
                              env=env, capture_output=True, text=True)
        if KEEP:  # the raw callgrind files, for callgrind_annotate
            os.makedirs(KEEP, exist_ok=True)
            for path in glob.glob(out + ".*"):
                shutil.copy(path, os.path.join(KEEP, f"{variant}.{os.path.basename(path)}"))
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise SystemExit(f"{variant}: valgrind run failed\n{proc.stderr[-3000:]}")
        info = json.loads(lines[-1])
        totals: dict = {}
        for path in glob.glob(out + ".*"):
            with open(path) as f:
                events: list = []
                for line in f:
                    if line.startswith("events:"):
                        events = line.split()[1:]
                    elif line.startswith("summary:"):
                        for name, value in zip(events, line.split()[1:]):
                            totals[name] = totals.get(name, 0) + int(value)
                        break
        info["events"] = {name: value / info["per"] for name, value in totals.items()}
        return totals.get("Ir", 0) / info["per"], info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="bare,arc,arc-sync,sdk-floor,sdk-empty,encode")
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--patterns", help="a pattern bundle or compiled file loaded into Arc (arc-* variants)")
    ap.add_argument("--cache", nargs="?", const=True, default=False, metavar="LL",
                    help="also simulate the caches (callgrind --cache-sim): D1 and LL misses per call; "
                         "LL=size,assoc,line sets the simulated last level, e.g. 1048576,16,64 (this VM's "
                         "L2 per core: what a call's code and data lose to the SDK's work between two calls)")
    ap.add_argument("--keep", metavar="DIR", help="keep the callgrind output files there (callgrind_annotate)")
    ap.add_argument("--quiet", action="store_true",
                    help="no garbage collection and no GIL hand-over to Arc's span thread in the counted "
                         "window: repeatable to a few hundred instructions, for attributing small changes "
                         "(what the calls allocate is then not collected in the window)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    global PATTERNS, CACHE_SIM, KEEP, QUIET
    KEEP, QUIET = args.keep, args.quiet
    PATTERNS, CACHE_SIM = args.patterns and os.path.abspath(args.patterns), args.cache
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
        ev = info["events"]
        misses = (f"  D1 misses {ev.get('D1mr', 0) + ev.get('D1mw', 0):8.0f}"
                  f"  LL misses {ev.get('DLmr', 0) + ev.get('DLmw', 0) + ev.get('ILmr', 0):7.0f}"
                  f"  I1 misses {ev.get('I1mr', 0):7.0f}") if CACHE_SIM else ""
        print(f"{variant:12} {per:12.0f} instructions {what}{vs}{misses}", flush=True)


if __name__ == "__main__":
    main()
