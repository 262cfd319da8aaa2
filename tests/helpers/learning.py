"""The learning loop's steps on real parts, shared by ``tests/learning`` and ``benchmarks/learning.py``:
``examples/learn_app.py`` under ``arc-instrument`` against a dev-llm into a collector, and
``arc learn patterns`` as a subprocess."""

from __future__ import annotations

import sys
import time

from tests.helpers.collector import arc_command
from tests.helpers.procs import ROOT, clean_env, run_json

APP = str(ROOT / "examples" / "learn_app.py")
FIXABLE = frozenset({"unsupported_temperature", "unsupported_max_tokens", "context", "invalid_json", "truncated",
                     "out_of_range"})
FAIL_RATE = {"fail_rate": 0.05, "fail_status": 429}


def run_app(srv, col, service: str, seed: int, rounds: int, *extra: str, **env: str) -> dict:
    """The app's JSON summary; returns once the collector holds all its call spans."""
    e = clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=col.otlp_endpoint, OTEL_SERVICE_NAME=service,
                  ARC_EXPORT_DELAY_MS="50", **env)
    srv.configure(**FAIL_RATE)  # restarts dev-llm's request count: the same call numbers get the 429s
    out = run_json([sys.executable, APP, "--base-url", srv.base_url, "--seed", str(seed), "--rounds", str(rounds),
                    *extra], e, timeout=300)
    col.wait_for_count(f"SELECT count() FROM arc_llm_calls WHERE service = '{service}'", len(out["calls"]), 60)
    return out


def learn(store, capture, base_url: str, registry: str, out, *extra: str) -> dict:
    """``arc learn patterns --publish`` (name ``learned``, channel canary); its JSON line + ``_seconds``."""
    t0 = time.monotonic()
    result = run_json(arc_command("learn", "patterns", "--store", str(store), "--since", "1h",
                                  "--capture", str(capture), "--verify-base-url", base_url, "--num-cpus", "2",
                                  "--publish", "--name", "learned", "--out", str(out), *extra),
                      clean_env(ARC_REGISTRY=registry), timeout=600, instrument=False)
    result["_seconds"] = time.monotonic() - t0
    return result
