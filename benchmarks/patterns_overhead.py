"""What a loaded pattern bundle adds to each intercepted call: ``chat.completions.create`` bare,
with Arc and no patterns, with Arc and the demo bundle (building the request view and a lookup in
a tiny index), and with Arc and the bundle (a request no pattern matches, and one that an exact
pattern matches and fixes), interleaved in rounds in one process over the same in-process
``httpx2.MockTransport`` as ``overhead.py``. Prints p50/p99 wall and CPU per call, the ratios vs
bare and the increment over Arc without patterns.

    python benchmarks/patterns_overhead.py --patterns BUNDLE [--rounds 20] [--calls 300]

(``benchmarks/patterns.py --keep DIR`` writes a 1M-pattern bundle to DIR/bench.json.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import httpx2  # noqa: E402
import openai  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402
from overhead import DropExporter, handler  # noqa: E402


def first_exact_pattern(path: str) -> dict | None:
    """The first pattern of ``path`` whose conditions are all plain equalities (to build a hit)."""
    with open(path, "rb") as fh:
        for line in fh:
            line = line.strip().rstrip(b",")
            if line.startswith(b'{"id"'):
                rec = json.loads(line)
                if all(not isinstance(v, dict) for v in rec["pattern"].values()):
                    return rec["pattern"]
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patterns", required=True, help="pattern bundle (e.g. the 1M-pattern benchmark file)")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DropExporter(), max_queue_size=1 << 16))
    trace.set_tracer_provider(provider)

    from arc_agent import Arc, state
    from arc_agent.llm.fixer import NoopFixer
    from arc_agent.llm.request import from_openai_chat
    from arc_agent.runtime import get_runtime

    t0 = time.perf_counter()
    arc = Arc(patterns=args.patterns)
    runtime = get_runtime()
    engine = runtime.pattern_engine()
    print(f"Arc set-up incl. pattern load: {time.perf_counter() - t0:.2f} s, {engine.stats()['patterns']:,} patterns")
    noop = NoopFixer()
    client = openai.OpenAI(api_key="sk-bench", base_url="http://bench.local/v1", max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    miss = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}], "temperature": 0.5}
    exact = first_exact_pattern(args.patterns)
    hit = {**miss, **exact} if exact else None

    from arc_agent.patterns import DEMO_BUNDLE, PatternEngine

    demo = PatternEngine([DEMO_BUNDLE], poll_interval=0)  # a few patterns: the index stays in cache
    variants = {"bare": (False, None, miss), "arc": (True, noop, miss), "arc+demo bundle": (True, demo, miss),
                "arc+patterns": (True, engine, miss)}
    if hit:
        variants["arc+patterns hit"] = (True, engine, hit)
    patched = [False]

    def use(name: str) -> dict:
        instrument, fixer, kwargs = variants[name]
        if instrument != patched[0]:
            if instrument:
                runtime.patch_integration("openai")
            else:
                runtime.unpatch_all()
            patched[0] = instrument
        if fixer is not None:
            state.RUNTIME.fixer = fixer
        return kwargs

    wall: dict = {v: [] for v in variants}
    cpu: dict = {v: [] for v in variants}
    completions = client.chat.completions  # ``.create`` looked up per call: patching swaps it

    for v in variants:  # warm-up, and check the hit really is fixed
        kwargs = use(v)
        for _ in range(50):
            completions.create(**kwargs)
    if hit:
        assert engine.fix(from_openai_chat(hit)).attributes.get("arc.fix.applied")
    names = list(variants)
    for r in range(args.rounds):
        for v in (names if r % 2 == 0 else names[::-1]):
            kwargs = use(v)
            ws, cs = wall[v], cpu[v]
            for _ in range(args.calls):
                c0 = time.thread_time_ns()
                t0 = time.perf_counter_ns()
                completions.create(**kwargs)
                ws.append(time.perf_counter_ns() - t0)
                cs.append(time.thread_time_ns() - c0)
    use("bare")
    arc.shutdown()

    def pct(xs: list, q: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))] / 1000

    print(f"chat.completions.create, {args.rounds} rounds x {args.calls} calls per variant; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'variant':18} {'p50 µs':>8} {'p99 µs':>8} {'CPU p50':>8} {'p50/bare':>9} {'CPU/bare':>9} "
          f"{'Δp50 vs arc':>12} {'ΔCPU vs arc':>12}")
    b50, bc50 = pct(wall["bare"], 0.5), pct(cpu["bare"], 0.5)
    a50, ac50 = pct(wall["arc"], 0.5), pct(cpu["arc"], 0.5)
    for v in variants:
        p50, p99, c50 = pct(wall[v], 0.5), pct(wall[v], 0.99), pct(cpu[v], 0.5)
        print(f"{v:18} {p50:8.1f} {p99:8.1f} {c50:8.1f} {p50 / b50:9.3f} {c50 / bc50:9.3f} "
              f"{p50 - a50:12.1f} {c50 - ac50:12.1f}")
    print("Δ = what the pattern lookup (and, for the hit, applying the fix) adds per call")


if __name__ == "__main__":
    main()
