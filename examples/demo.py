"""Arc Runtime end-to-end demo on the embedded defaults (no network, no external service).

Starts ``arc dev-llm`` (a local OpenAI/Anthropic-compatible server) and ``arc collector`` (OTLP/gRPC
receiver writing ClickHouse tables into an embedded chDB store), runs ``examples/demo_app.py``
bare and then under ``arc-instrument`` with the shipped demo pattern bundle, and shows the spans
Arc produced, read back from ClickHouse with ``arc query``. The chDB store is a temporary folder,
removed at the end (``--keep-store`` keeps it and says where it is).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
APP = str(HERE / "demo_app.py")
DEMO_BUNDLE = HERE.parent / "arc_agent" / "data" / "patterns" / "demo.yaml"


def describe_pattern(pattern: dict) -> str:
    """One pattern of a bundle in words, from the bundle itself (so the demo never says more than it matches)."""
    conditions = []
    for field, condition in pattern["pattern"].items():
        if not isinstance(condition, dict):
            conditions.append(f"{field} = {condition}")
            continue
        for op, value in condition.items():
            if op == "in":
                conditions.append(f"{field} is {' or '.join(map(str, value))}")
            else:
                conditions.append(f"{field} {op} {value}")
    fixes = ", ".join(f"set {field} {value}" for field, value in pattern["fix"].items())
    return f"pattern {pattern['id']}: {' and '.join(conditions)} -> {fixes}"


def _start(cmd: list, prefix: str) -> tuple:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith(prefix):
        proc.kill()
        raise SystemExit(f"demo: {cmd[1]} did not start: {line}\n{proc.stdout.read()}")
    return proc, line


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def main() -> int:
    keep = "--keep-store" in sys.argv[1:]
    arc = str(BIN / "arc")
    store = tempfile.mkdtemp(prefix="arc-demo-store-")
    try:
        return _run(arc, store)
    finally:
        if keep:
            print(f"\n== the span store is kept at {store} (`arc query --store {store} ...`; delete it when done)")
        else:
            shutil.rmtree(store, ignore_errors=True)
            print(f"\n(the demo's span store {store} was removed; `--keep-store` keeps it)")


def _run(arc: str, store: str) -> int:
    devllm, line = _start([arc, "dev-llm", "--port", "0"], "dev-llm listening on")
    url = line.rsplit(" ", 1)[-1]
    collector, cline = _start([arc, "collector", "--listen", "127.0.0.1:0", "--query-listen", "127.0.0.1:0",
                               "--store", store], "arc collector:")
    parts = cline.split()
    otlp, query = parts[parts.index("otlp") + 1], parts[parts.index("query") + 1]
    try:
        print(f"== dev-llm at {url}; collector {otlp} -> chDB store {store}\n")
        print("== 1. the app on its own (no Arc):")
        subprocess.run([sys.executable, APP], env=_env(DEVLLM_URL=url), check=True)
        print("\n== 2. the same app, unchanged, under `arc-instrument` with the demo pattern bundle")
        pattern = yaml.safe_load(DEMO_BUNDLE.read_text(encoding="utf-8"))["patterns"][0]
        print(f"      ({describe_pattern(pattern)}; the app asks model arc-demo at temperature 0.95):")
        subprocess.run([str(BIN / "arc-instrument"), sys.executable, APP], check=True,
                       env=_env(DEVLLM_URL=url, ARC_PATTERNS="demo", OTEL_EXPORTER_OTLP_ENDPOINT=otlp,
                                OTEL_SERVICE_NAME="demo-app"))
        sql = ("SELECT SpanName AS span, SpanAttributes['gen_ai.request.temperature'] AS temperature_sent, "
               "SpanAttributes['arc.fix.applied'] AS fixed, SpanAttributes['arc.fix.pattern_ids'] AS patterns, "
               "SpanAttributes['gen_ai.usage.output_tokens'] AS out_tokens, "
               "SpanAttributes['arc.interception.latency_us'] AS arc_us "
               "FROM otel_traces WHERE ServiceName = 'demo-app' ORDER BY Timestamp")
        deadline = time.monotonic() + 30
        while True:  # the collector batches inserts; wait until all 7 spans are stored
            count = subprocess.run([arc, "query", "--store", store,
                                    "SELECT count() FROM otel_traces WHERE ServiceName = 'demo-app'"],
                                   capture_output=True, text=True).stdout.strip()
            if count == "7" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        print(f"\n== 3. the spans Arc exported, read back from ClickHouse (`arc query --store {store} ...`,\n"
              f"      through the collector at {query}, token from {store}/collector.json):")
        subprocess.run([arc, "query", "--store", store, "--format", "PrettyCompactMonoBlock", sql], check=True)
        return 0
    finally:
        for proc in (collector, devllm):
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
