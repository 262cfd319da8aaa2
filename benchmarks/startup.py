"""Start-up cost of Arc: `python -c pass` bare vs with Arc's bootstrap vs via `arc-instrument`,
and the one-time cost paid when the first target library (openai) is imported.

    python benchmarks/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def interleaved_ms(variants: list, runs: int) -> list:
    """Median wall time of each (cmd, env), run in interleaved rounds so noise hits all alike."""
    samples: list = [[] for _ in variants]
    for _ in range(runs):
        for i, (cmd, env) in enumerate(variants):
            t = time.perf_counter()
            subprocess.run(cmd, env=env, check=True)
            samples[i].append(time.perf_counter() - t)
    return [statistics.median(xs) * 1000 for xs in samples]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    import arc_bootstrap

    boot = list(arc_bootstrap.__path__)[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARC_") and k != "PYTHONPATH"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # installed packages have .pyc; measure that case
    py = sys.executable
    subprocess.run([py, "-c", "import arc_agent.hook, arc_agent.runtime"], env=dict(env, PYTHONPATH=boot))
    instr = str(BIN / "arc-instrument")
    names = ["python -c pass", "PYTHONPATH=arc_bootstrap python -c pass", "arc-instrument python -c pass",
             "ARC_DISABLE=1 arc-instrument python -c pass"]
    times = interleaved_ms([([py, "-c", "pass"], env), ([py, "-c", "pass"], dict(env, PYTHONPATH=boot)),
                            ([instr, py, "-c", "pass"], env), ([instr, py, "-c", "pass"], dict(env, ARC_DISABLE="1"))],
                           args.runs)
    print(f"start-up, median of {args.runs} interleaved runs")
    for name, ms in zip(names, times):
        print(f"  {name:45} {ms:7.1f} ms   (+{ms - times[0]:5.1f} ms)")
    code = "import openai"
    plain, arc = interleaved_ms([([py, "-c", code], env), ([py, "-c", code], dict(env, PYTHONPATH=boot))],
                                max(5, args.runs // 3))
    print(f"first target import: `{code}` {plain:.1f} ms bare, {arc:.1f} ms with Arc (+{arc - plain:.1f} ms: "
          "OTel SDK, exporter, grpc, wrapt loaded on demand)")


if __name__ == "__main__":
    main()
