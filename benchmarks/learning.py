"""The learning loop's figures (issue 14 §6), on the embedded defaults (dev-llm, `arc collector` on
chDB, local Ray):

1. held-out failure rate before/after: ``examples/learn_app.py`` runs under ``arc-instrument`` with
   ``ARC_CAPTURE`` (every catalogue failure, healthy calls, 5 % 429s), ``arc learn patterns`` mines,
   verifies by replay and publishes; held-out traffic (other prompts and values) runs bare and with
   ``ARC_PATTERNS=registry:learned@canary``. Goals: ≥ 66 % fewer failures when ≥ 80 % of them are
   request-fixable; 0 healthy calls broken.
2. mining time over 1M spans: the rows are generated inside chDB (``INSERT … SELECT … FROM numbers()``
   into ``otel_traces``, shaped like the agent's spans), then ``arc learn patterns --store`` (no
   cassette: mining only) reports its mining seconds (SQL grouping + predicate search). Goal ≤ 60 s.
3. replay throughput: the learning run's cassette re-sent by ``arc replay``'s ``Replayer`` (real
   SDKs, the learned fixer, one thread) against dev-llm, sends per second; and the job's own
   verification replays (parallel Ray tasks, Ray start-up included) per second.

    python benchmarks/learning.py [--rounds 10] [--held-out-rounds 20] [--spans 1000000] [--only mining]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# one category per number % 13, as examples/learn_app.py's rounds; 5 % of rows are 429s
SPANS_SQL = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName, SpanAttributes,
                         Duration, StatusCode)
SELECT now64(9) - toIntervalMillisecond(number % 3000000) AS ts,
       leftPad(lower(hex(number)), 32, '0'), leftPad(lower(hex(number)), 16, '0'),
       concat('chat ', model), 'Client', 'bench-learning',
       mapFilter((k, v) -> v != '', map(
         'gen_ai.operation.name', 'chat', 'gen_ai.provider.name', provider, 'gen_ai.request.model', model,
         'gen_ai.request.temperature', temperature, 'gen_ai.request.max_tokens', max_tokens,
         'arc.request.max_completion_tokens', mct, 'arc.request.params', params,
         'arc.request.prompt_tokens_est', toString(prompt), 'arc.request.message_count', '1',
         'arc.request.response_format', rf, 'arc.request.tool_count', '0',
         'arc.outcome', if(limited, 'http_error', outcome),
         'http.response.status_code', if(limited, '429', status), 'arc.error.code', if(limited, '', code),
         'arc.error.param', if(limited, '', param))),
       1000000, if(limited OR outcome = 'http_error', 'Error', 'Ok')
FROM (
  SELECT number, number % 13 AS c, (cityHash64(number, 1) % 1000) / 1000 AS r,
         cityHash64(number, 2) % 20 = 0 AS limited,
         if(c IN (11, 12), 'anthropic', 'openai') AS provider,
         multiIf(c IN (2, 3, 4), 'reasoning-mini', c IN (5, 6), 'small-4k', c = 7, 'large-128k',
                 c IN (11, 12), 'claude-haiku-small', 'gpt-4o-mini') AS model,
         multiIf(c = 0, toString(round(r * 0.8, 2)), c = 2, toString(round(0.1 + r * 0.8, 2)),
                 c = 8, toString(round(0.95 + r * 0.45, 2)), c = 9, toString(round(r * 0.9, 2)), '') AS temperature,
         multiIf(c = 0, toString(64 * pow(2, number % 4)), c = 1, toString(100 + toInt64(r * 300)),
                 c = 3, toString(100 + toInt64(r * 800)), c IN (5, 6, 7), '256', c = 10, toString(2 + toInt64(r * 10)),
                 c = 11, toString(5000 + toInt64(r * 4000)), c = 12, toString(256 * pow(4, number % 3)),
                 '') AS max_tokens,
         if(c = 4, toString(100 + toInt64(r * 800)), '') AS mct,
         multiIf(c IN (5, 7), 3900 + toInt64(r * 2100), c = 6, 4 + toInt64(r * 20), 10 + toInt64(r * 40)) AS prompt,
         if(c IN (8, 9), 'json_object', 'text') AS rf,
         concat('[', arrayStringConcat(arrayMap(x -> concat('"', x, '"'), arraySort(arrayFilter(x -> x != '', [
           'messages', 'model', if(temperature != '', 'temperature', ''), if(max_tokens != '', 'max_tokens', ''),
           if(mct != '', 'max_completion_tokens', ''), if(rf != 'text', 'response_format', '')]))), ','),
           ']') AS params,
         multiIf(c IN (2, 3, 5, 11), 'http_error', c = 8, 'invalid_json', c = 10, 'truncated', 'ok') AS outcome,
         multiIf(c IN (2, 3, 5, 11), '400', '') AS status,
         multiIf(c IN (2, 3), 'unsupported_parameter', c = 5, 'context_length_exceeded', '') AS code,
         multiIf(c = 2, 'temperature', c IN (3, 11), 'max_tokens', c = 5, 'messages', '') AS param
  FROM numbers({spans})
)
"""


def held_out(args: argparse.Namespace, tmp: Path) -> dict:
    """Steps 1 and 3."""
    from arc_agent.devllm import DevLLMServer
    from arc_agent.replay import Replayer, read_records
    from arc_agent.replay.cli import load_fixer
    from arc_agent.replay.send import Sender
    from tests.helpers.collector import CollectorProcess
    from tests.helpers.learning import FIXABLE, learn, run_app

    registry = str(tmp / "registry")
    with DevLLMServer(port=0) as srv, CollectorProcess(tmp / "store") as col:
        print("learning run …", file=sys.stderr, flush=True)
        run_app(srv, col, "learn-run", 1, args.rounds, ARC_CAPTURE=str(tmp / "calls.jsonl"), ARC_CAPTURE_RATE="1")
        print("arc learn patterns …", file=sys.stderr, flush=True)
        job = learn(tmp / "store", tmp / "calls.jsonl", srv.base_url, registry, tmp / "bundle.json")
        print("held-out runs …", file=sys.stderr, flush=True)
        before = run_app(srv, col, "held-out-bare", 2, args.held_out_rounds, "--held-out")
        after = run_app(srv, col, "held-out-fixed", 2, args.held_out_rounds, "--held-out", ARC_REGISTRY=registry,
                        ARC_PATTERNS="registry:learned@canary")
        srv.configure(fail_rate=0.0)
        records = list(read_records(tmp / "calls.jsonl"))
        sender = Sender(srv.base_url)
        try:
            t0 = time.perf_counter()
            results = Replayer(sender, load_fixer(str(tmp / "bundle.json"))).run(records)
            replay_s = time.perf_counter() - t0
        finally:
            sender.close()
    calls = len(before["calls"])
    healthy_broken = sum(b["seen"] == "ok" and a["seen"] != "ok"
                         for b, a in zip(before["calls"], after["calls"]) if b["category"] == "healthy")
    sends = len(results) + sum(r.changed for r in results)
    patterns = json.loads((tmp / "bundle.json").read_text())["patterns"]
    return {"learn_calls": args.rounds * 13, "patterns": len(patterns), "learn_job_s": round(job["_seconds"], 1),
            "held_out_calls": calls, "failed_before": before["total_failed"], "failed_after": after["total_failed"],
            "fixable_share_before": round(before["fixable_failed"] / max(1, before["total_failed"]), 3),
            "failure_rate_before": round(before["total_failed"] / calls, 3),
            "failure_rate_after": round(after["total_failed"] / calls, 3),
            "fewer_failures": round(1 - after["total_failed"] / max(1, before["total_failed"]), 3),
            "fewer_fixable_failures": round(1 - after["fixable_failed"] / max(1, before["fixable_failed"]), 3),
            "rate_limited_before_after": [before["rate_limited"], after["rate_limited"]],
            "healthy_broken": healthy_broken, "fixable_categories": sorted(FIXABLE),
            "replay_records": len(results), "replay_sends": sends,
            "replay_sends_per_s": round(sends / replay_s, 1),
            "verify_replays": job.get("replays"), "verify_replays_per_s": round(
                job["replays"] / job["replay_seconds"], 1) if job.get("replay_seconds") else None}


def mining(args: argparse.Namespace, tmp: Path) -> dict:
    """Step 2: generate the spans in chDB (one process owns a store), then mine them."""
    store = tmp / "mining-store"
    make = ("import sys, time, chdb\n"
            "from arc_agent.collector.store import ChdbStore\n"
            "ChdbStore(sys.argv[1]).close()\n"  # the schema and views, as the collector makes them
            "conn = chdb.connect(sys.argv[1]); t0 = time.perf_counter()\n"
            "conn.query(sys.stdin.read())\n"
            "n = conn.query('SELECT count() FROM arc_llm_calls', 'CSV').bytes().decode().strip()\n"
            "print(n, round(time.perf_counter() - t0, 1))\n")
    print(f"generating {args.spans} spans in chDB …", file=sys.stderr, flush=True)
    gen = subprocess.run([sys.executable, "-c", make, str(store)], input=SPANS_SQL.replace("{spans}", str(args.spans)),
                         capture_output=True, text=True, check=True, cwd=str(ROOT))
    rows, gen_s = gen.stdout.split()
    print("mining …", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    out = subprocess.run([str(Path(sys.executable).parent / "arc"), "learn", "patterns", "--store", str(store),
                          "--since", "24h", "--out", str(tmp / "mined.json")],
                         capture_output=True, text=True, check=True, cwd=str(ROOT))
    wall = time.perf_counter() - t0
    result = json.loads(out.stdout.strip().splitlines()[-1])
    kinds = sorted(p["provenance"]["kind"] for p in json.loads((tmp / "mined.json").read_text())["patterns"])
    return {"spans": int(rows), "generate_s": float(gen_s), "cells": result["cells"],
            "mining_s": result["mining_seconds"], "job_wall_s": round(wall, 1), "patterns": result["patterns"],
            "kinds": kinds}


def main(argv: list | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=10, help="learning run rounds (13 calls each)")
    p.add_argument("--held-out-rounds", type=int, default=20)
    p.add_argument("--spans", type=int, default=1_000_000)
    p.add_argument("--only", choices=["held-out", "mining"], help="run one part")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="arc-bench-learning-") as d:
        tmp = Path(d)
        report = {}
        if args.only != "mining":
            report["held_out"] = held_out(args, tmp)
        if args.only != "held-out":
            report["mining"] = mining(args, tmp)
    print(json.dumps(report, indent=2))
    h = report.get("held_out")
    if h:
        print(f"held-out: failure rate {h['failure_rate_before']:.1%} -> {h['failure_rate_after']:.1%} "
              f"({h['fewer_failures']:.0%} fewer; {h['fixable_share_before']:.0%} of failures request-fixable; "
              f"goal >= 66 %), healthy calls broken {h['healthy_broken']} (goal 0)")
    if "mining" in report:
        m = report["mining"]
        print(f"mining {m['spans']} spans: {m['mining_s']} s (goal <= 60 s), {m['cells']} cells, "
              f"{m['patterns']} patterns")
    if h:
        print(f"replay: {h['replay_sends_per_s']} sends/s over {h['replay_records']} records (arc replay, one "
              f"thread); verification in Ray tasks {h['verify_replays_per_s']} replays/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
