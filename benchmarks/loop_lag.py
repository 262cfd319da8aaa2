"""Event-loop lag with 1,000 concurrent AsyncOpenAI calls: bare app vs the same app under Arc.

Runs ``loop_lag_app.py`` (a ticker task measures how late each 1 ms sleep ends while the calls are in
flight against dev-llm holding each reply ``--delay-ms``) alternately bare (``ARC_DISABLE=1``) and
under ``arc-instrument`` (every span exported over gRPC to a receiver in this process), ``--rounds``
times each. Prints per variant the raw max lag, the "own" max lag (without run-queue waits and the
app's own full collections, see the app) and p99 of tick lags, each as best / median over rounds.
Wall-clock figures on a shared machine: compare bare and Arc of the same run only. The test suite
checks the property itself without clocks (``tests/core/test_loop_lag.py``).

    python benchmarks/loop_lag.py [--calls 1000] [--rounds 3] [--delay-ms 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arc_agent.devllm import DevLLMServer  # noqa: E402
from tests.helpers.otlp import OTLPReceiver  # noqa: E402

APP = str(Path(__file__).parent / "loop_lag_app.py")


def run(variant: str, calls: int, devllm_url: str, endpoint: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_"))}
    env.update(DEVLLM_URL=devllm_url, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
    cmd = [sys.executable, APP, str(calls)]
    if variant == "bare":
        env["ARC_DISABLE"] = "1"
    else:
        cmd = [str(Path(sys.executable).parent / "arc-instrument"), *cmd]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=str(ROOT))
    if proc.returncode != 0:
        raise SystemExit(f"{variant} run failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--delay-ms", type=int, default=300, help="dev-llm holds each reply this long")
    args = ap.parse_args()
    results: dict = {"bare": [], "arc": []}
    with DevLLMServer(port=0, delay_ms=args.delay_ms) as devllm, OTLPReceiver() as receiver:
        for r in range(args.rounds):
            for variant in ("bare", "arc") if r % 2 == 0 else ("arc", "bare"):
                out = run(variant, args.calls, devllm.base_url, receiver.endpoint)
                results[variant].append(out)
                print(f"round {r + 1}/{args.rounds} {variant:4}: max lag {out['max_lag_ms']:.1f} ms, own "
                      f"{out['max_own_lag_ms']:.1f} ms, p99 {out['p99_lag_ms']:.2f} ms", flush=True)
        spans = len(receiver.spans)
    print(f"{args.calls} concurrent calls, {args.rounds} rounds per variant; spans received from Arc: {spans}")
    print(f"{'variant':8} {'max lag best/median ms':>24} {'own max best/median ms':>24} {'p99 best/median ms':>20}")
    for variant, outs in results.items():
        cols = []
        for key in ("max_lag_ms", "max_own_lag_ms", "p99_lag_ms"):
            xs = [o[key] for o in outs]
            cols.append(f"{min(xs):.1f} / {statistics.median(xs):.1f}")
        print(f"{variant:8} {cols[0]:>24} {cols[1]:>24} {cols[2]:>20}")


if __name__ == "__main__":
    main()
