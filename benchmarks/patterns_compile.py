"""Compiled pattern files: compile time and size, and what a big set costs the app's first
`import openai` under `arc-instrument` (no patterns vs a compiled 1M set vs the JSON bundle), plus
how long after that import the set is ready (loaded in the background).

    python benchmarks/patterns_compile.py [--patterns 1000000] [--runs 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
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
         "ok = startup.wait_ready(600); t_ready = time.perf_counter() - t\n"
         "from arc_agent import runtime\n"
         "rt = runtime.get_runtime(); n = rt.patterns.stats()['patterns'] if rt.patterns else 0\n"
         "import json; print(json.dumps({'import_ms': t_import * 1000, 'ready_ms': t_ready * 1000, 'patterns': n,"
         " 'ok': ok}))")


def probe(env: dict) -> dict:
    out = subprocess.run([str(BIN / "arc-instrument"), sys.executable, "-c", PROBE], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patterns", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
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
    variants = {"no patterns": base, "compiled": dict(base, ARC_PATTERNS=target),
                "JSON bundle": dict(base, ARC_PATTERNS=source)}
    samples: dict = {name: [] for name in variants}
    for _ in range(args.runs):  # interleaved rounds: machine noise hits every variant alike
        for name, env in variants.items():
            samples[name].append(probe(env))
    bare = statistics.median(s["import_ms"] for s in samples["no patterns"])
    print(f"first `import openai` under arc-instrument, median of {args.runs} interleaved runs:")
    for name, runs in samples.items():
        imp = statistics.median(s["import_ms"] for s in runs)
        ready = statistics.median(s["ready_ms"] for s in runs)
        print(f"  {name:12} import {imp:7.1f} ms (+{imp - bare:6.1f} ms)   set ready {ready:8.1f} ms after the "
              f"import began ({runs[0]['patterns']} patterns)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
