"""Compiled pattern files: compile time and size, and what a big set costs the app's first
`import openai` under `arc-instrument` (no patterns vs a compiled 1M set vs the JSON bundle), plus
how long after that import the set is ready (loaded in the background).

    python benchmarks/patterns_compile.py [--patterns 1000000] [--runs 15] [--keep DIR] [--json]

Each round runs the variants in a new random order; the figure is the median over rounds of each
variant's import time minus the same round's no-patterns import (a busy machine shifts whole rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from patterns import generate  # noqa: E402 - the benchmark bundle generator

BIN = Path(sys.executable).parent
PROBE = ("import time; t = time.perf_counter(); import openai; t_import = time.perf_counter() - t\n"
         "from arc_agent.patterns import startup\n"
         "at_import = startup.wait_ready(0) and 'ARC_PATTERNS' in __import__('os').environ\n"
         "ok = startup.wait_ready(600); t_ready = time.perf_counter() - t\n"
         "from arc_agent import runtime\n"
         "rt = runtime.get_runtime(); n = rt.patterns.stats()['patterns'] if rt.patterns else 0\n"
         "import json; print(json.dumps({'import_ms': t_import * 1000, 'ready_ms': t_ready * 1000, 'patterns': n,"
         " 'ok': ok, 'ready_at_import': at_import}))")


def probe(env: dict) -> dict:
    out = subprocess.run([str(BIN / "arc-instrument"), sys.executable, "-c", PROBE], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patterns", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json", action="store_true", help="also the JSON bundle itself (slow: it loads for many seconds)")
    ap.add_argument("--keep", help="directory to keep (and reuse) the generated bundle and compiled file in")
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="arc-compile-bench-")
    os.makedirs(work, exist_ok=True)
    source = os.path.join(work, f"bundle-{args.patterns}.json")
    target = os.path.join(work, f"bundle-{args.patterns}.arcpatterns")
    if not os.path.exists(source):
        t = time.perf_counter()
        generate(args.patterns, source)
        print(f"generated {args.patterns} patterns in {time.perf_counter() - t:.1f} s")
    arc = str(BIN / "arc")
    t = time.perf_counter()
    subprocess.run([arc, "patterns", "compile", source, "-o", target], check=True, capture_output=True)
    compile_s = time.perf_counter() - t
    print(f"compile: {compile_s:.1f} s (`arc patterns compile`, whole command); JSON "
          f"{os.path.getsize(source) / 1e6:.0f} MB -> compiled {os.path.getsize(target) / 1e6:.0f} MB")

    base = {k: v for k, v in os.environ.items() if not k.startswith("ARC_")}
    base.update(ARC_PATTERNS_POLL="0", ARC_ENDPOINT="grpc://127.0.0.1:9", ARC_HOME=os.path.join(work, "home"),
                ARC_PATTERNS_SNAPSHOT="off")
    variants = {"no patterns": base, "compiled": dict(base, ARC_PATTERNS=target)}
    if args.json:
        variants["JSON bundle"] = dict(base, ARC_PATTERNS=source)
    samples: dict = {name: [] for name in variants}
    rng = random.Random(1)
    for _ in range(args.runs):  # rounds in random order: machine noise hits every variant alike
        order = list(variants)
        rng.shuffle(order)
        for name in order:
            samples[name].append(probe(variants[name]))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"first `import openai` under arc-instrument, {args.runs} rounds (median; added = median of the "
          "per-round difference to no patterns):")
    for name, runs in samples.items():
        imp = statistics.median(s["import_ms"] for s in runs)
        added = statistics.median(s["import_ms"] - b["import_ms"] for s, b in zip(runs, samples["no patterns"]))
        ready = statistics.median(s["ready_ms"] for s in runs)
        print(f"  {name:12} import {imp:7.1f} ms (added {added:+7.1f} ms)   set ready {ready:8.1f} ms after the "
              f"import began ({runs[0]['patterns']} patterns; ready at import return in "
              f"{sum(s['ready_at_import'] for s in runs)} of {len(runs)} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
