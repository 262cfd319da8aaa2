"""What issue 12's bundle and snapshot defences cost: the snapshot's HMAC check on a restart, and
the YAML bounds walk, each as a share of the load it guards (same machine, same run).

    .venv/bin/python benchmarks/bundle_bounds.py [--patterns 200000] [--yaml-patterns 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arc_agent.patterns import bounded  # noqa: E402
from arc_agent.patterns.bundle import load_layer, read_document  # noqa: E402
from arc_agent.patterns.snapshot import SnapshotPolicy, load, read, snapshot_key  # noqa: E402
from arc_agent.patterns.snapshot_trust import mac, secret  # noqa: E402
from benchmarks.patterns import generate  # noqa: E402


def best(fn, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def snapshot_figures(n: int, tmp: str) -> None:
    path = os.path.join(tmp, "big.json")
    generate(n, path)
    policy = SnapshotPolicy(directory=os.path.join(tmp, "snaps"), min_patterns=1)
    _, infos = load([path], policy, load_layer)
    (snap,) = [os.path.join(policy.directory, f) for f in os.listdir(policy.directory)]
    key = snapshot_key([path], [i.sha256 for i in infos])
    size = os.path.getsize(snap)

    def hmac_only():
        h = mac(secret())
        with open(snap, "rb") as fh:
            while chunk := fh.read(1 << 24):
                h.update(chunk)

    whole = best(lambda: read(snap, key, [path]))
    part = best(hmac_only)
    print(f"snapshot of {n} patterns ({size / 1e6:.0f} MB): restart read {whole:.3f} s, "
          f"of which HMAC-SHA256 {part:.3f} s ({100 * part / whole:.0f}%)")


def yaml_figures(n: int, tmp: str) -> None:
    import yaml

    path = os.path.join(tmp, "big.yaml")
    doc = {"name": "y", "patterns": [{"id": f"p{i}", "pattern": {"model": f"m{i % 50}", "temperature": {">": 0.9}},
                                      "fix": {"temperature": 0.7}} for i in range(n)]}
    with open(path, "w") as fh:
        yaml.safe_dump(doc, fh)
    data = bounded.read_regular(path)
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    plain = best(lambda: yaml.load(data, Loader=base))  # noqa: S506 - a safe loader
    checked = best(lambda: read_document(path, data))
    print(f"YAML of {n} patterns ({len(data) / 1e6:.1f} MB): safe load {plain:.3f} s, with bounds "
          f"{checked:.3f} s ({checked / plain:.2f}x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patterns", type=int, default=200_000)
    ap.add_argument("--yaml-patterns", type=int, default=20_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="arc-bounds-") as tmp:
        snapshot_figures(args.patterns, tmp)
        yaml_figures(args.yaml_patterns, tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
