"""UI tool policy: bare Playwright vs the seed rule vs a GRPO-trained policy on held-out scenarios.

States are drawn per failure mechanic (covered, absent, disabled, moving, loading, offscreen, tiny)
with seeded delays and boxes, then split: the policy trains (``training_ray.ui_policy.train``, Ray,
one Chromium per worker) on one part only, and all three are replayed on the other. Figures per mode:
failure rate, Arc's added seconds per action (observation + tools before the action), seconds per
action in all, tool precision (share of episodes with tools whose confidence rose by > 0.05), and
the confidence model's calibration (ECE, 10 bins, confidence at act time vs success). Goal: the
trained policy fails no more often than the seed rule and adds ≤ 0.7× its time per action (where the
seed rule fails, ≤ 0.7× its failures). ``ui_policy_bound.py`` replays hand-written policies on the same
held-out states: what the action set can reach.

    .venv/bin/python benchmarks/ui_policy.py [--states-per-mechanic 4] [--iterations 12] [--lam 0.5]
                                             [--time-cost total|added] [--entropy 0.01] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MECHANICS = ("covered", "absent", "disabled", "moving", "loading", "offscreen", "tiny")


def make_states(per_mechanic: int, seed: int) -> list:
    from training_ray.states import State

    rng = random.Random(seed)
    out = []
    for mech in MECHANICS:
        for _ in range(per_mechanic):
            size = [10.0, 10.0] if mech == "tiny" else [rng.uniform(80, 200), rng.uniform(28, 48)]
            bbox = [rng.uniform(40, 700), rng.uniform(120, 560), *size]
            out.append(State("click", "#target", [1000.0, 720.0], bbox, [mech], float(rng.randint(300, 2500))))
    return out


def ece(confs: list, outcomes: list, bins: int = 10) -> float:
    pairs = [(c, o) for c, o in zip(confs, outcomes) if c is not None]
    if not pairs:
        return float("nan")
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [(c, o) for c, o in pairs if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if sel:
            total += len(sel) / len(pairs) * abs(sum(c for c, _ in sel) / len(sel) - sum(o for _, o in sel) / len(sel))
    return total


def summarise(episodes: list) -> dict:
    n = len(episodes)
    tooled = [e for e in episodes if e.get("tools")]
    useful = [e for e in tooled if (e["conf_after"] or 0) > (e["conf_before"] or 0) + 0.05]
    return {"episodes": n, "failure_rate": sum(not e["success"] for e in episodes) / n,
            "added_s": sum(e["seconds"] - e["act_seconds"] for e in episodes) / n,
            "seconds": sum(e["seconds"] for e in episodes) / n,
            "tool_precision": len(useful) / len(tooled) if tooled else float("nan"),
            "ece": ece([e["conf_after"] for e in episodes], [1.0 if e["success"] else 0.0 for e in episodes])}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--states-per-mechanic", type=int, default=4)
    p.add_argument("--iterations", type=int, default=12)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--states-per-iteration", type=int, default=8)
    p.add_argument("--repeats", type=int, default=2, help="replays of each held-out state per mode")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--lam", type=float, default=0.5)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--time-cost", choices=("total", "added"), default="total",
                   help="seconds λ charges in the reward (see training_ray.ui_env.episode_reward)")
    p.add_argument("--entropy", type=float, default=0.01, help="entropy bonus weight (an addition to GRPO)")
    args = p.parse_args()

    from training_ray import ui_policy
    from training_ray.states import to_scenario
    from training_ray.ui_env import THRESHOLD, EpisodeRunner

    scenarios = [to_scenario(s).to_dict() for s in make_states(args.states_per_mechanic, args.seed)]
    train_sc, held = ui_policy.split_held_out(scenarios, 0.25, args.seed)
    targs = argparse.Namespace(workers=args.workers, iterations=args.iterations, group=args.group,
                               states_per_iteration=args.states_per_iteration, inner_epochs=4, epsilon=0.2,
                               beta=0.04, lam=args.lam, lr=args.lr, seed=args.seed, entropy=args.entropy,
                               time_cost=args.time_cost)
    t0 = time.monotonic()
    policy, metrics, seen = ui_policy.train(train_sc, targs, "bench", THRESHOLD)
    train_s = time.monotonic() - t0
    from arc_agent.vision.features import STEP_STATE

    manifest = ui_policy.manifest_for("bench", THRESHOLD)
    onnx_bytes = ui_policy.export_onnx(policy, len(STEP_STATE))
    diff = ui_policy.check_onnx(policy, onnx_bytes, manifest, seen, args.seed)

    runner = EpisodeRunner(threshold=THRESHOLD)
    runner.set_policy(onnx_bytes, manifest)
    results, per_state = {}, []
    try:
        for mode in ("bare", "seed", "greedy"):
            eps = [runner.run(sc, mode, seed=r) for sc in held for r in range(args.repeats)]
            results[mode] = summarise([e for e in eps if not e.get("error")])
            for i, e in enumerate(eps):
                sc = held[i // args.repeats]
                per_state.append(f"{mode:6s} {','.join(sc['mechanics']):10s} d={sc['delay_ms']:5d} "
                                 f"{'ok  ' if e['success'] else 'FAIL'} {e.get('seconds', 0):.2f}s {e.get('tools')}")
    finally:
        runner.close()
    print("\n".join(per_state))
    seed_fail = results["seed"]["failure_rate"]
    out = {"held_out_states": len(held), "train_states": len(train_sc), "train_seconds": round(train_s, 1),
           "workers": args.workers, "iterations": args.iterations, "group": args.group,
           "lam": args.lam, "time_cost": args.time_cost, "lr": args.lr, "entropy": args.entropy,
           "onnx_max_abs_diff": diff, "reward_first": metrics["reward_first"], "reward_last": metrics["reward"],
           "modes": results,
           "trained_vs_seed_added_time": (results["greedy"]["added_s"] / results["seed"]["added_s"]
                                          if results["seed"]["added_s"] else float("nan")),
           "trained_vs_seed_failures": (results["greedy"]["failure_rate"] / seed_fail if seed_fail else None)}
    print(f"{'mode':8s} {'fail %':>7s} {'added s':>8s} {'total s':>8s} {'tool prec':>9s} {'ECE':>6s}")
    for mode, r in results.items():
        name = {"greedy": "trained"}.get(mode, mode)
        print(f"{name:8s} {100 * r['failure_rate']:6.1f}% {r['added_s']:8.3f} {r['seconds']:8.3f} "
              f"{r['tool_precision']:9.2f} {r['ece']:6.3f}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
