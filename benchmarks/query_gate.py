"""What the query endpoint's safety costs per query: the engine-parsed gate plus a fresh read-only
session with limits (``ChdbStore.query``) vs the same SELECT on one long-lived chDB connection
(baseline, same run, same store). Reports p50/p99 of each and the p50 ratio.

    python benchmarks/query_gate.py [--queries 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SQL = "SELECT count() FROM otel_traces WHERE SpanName = 'x'"


def _percentiles(samples: list) -> tuple:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    from arc_agent.collector.store import ChdbStore

    with tempfile.TemporaryDirectory() as folder:
        store = ChdbStore(Path(folder) / "store")
        import chdb

        raw = chdb.connect(str(store.path))  # the baseline: one session, no gate
        gated, plain = [], []
        for i in range(args.queries):
            if i % 50 == 0:
                print(f"query_gate: {i}/{args.queries}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            store.query(SQL)
            t1 = time.perf_counter()
            raw.query(SQL, "TabSeparated")
            t2 = time.perf_counter()
            gated.append((t1 - t0) * 1e3)
            plain.append((t2 - t1) * 1e3)
        raw.close()
        store.close()
    g50, g99 = _percentiles(gated)
    p50, p99 = _percentiles(plain)
    print(f"gated query (gate + fresh read-only session): p50 {g50:.2f} ms, p99 {g99:.2f} ms")
    print(f"plain query (one session, no gate):           p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"ratio p50: {g50 / p50:.1f}x, added p50: {g50 - p50:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
