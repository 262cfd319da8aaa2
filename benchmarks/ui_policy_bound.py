"""What the sequential action set can reach on ``ui_policy.py``'s held-out states: hand-written policies.

No training: each reference policy reads the same ``STEP_STATE`` the trained one sees and is replayed
through the agent's step loop next to the seed rule, on the held-out split of ``ui_policy.py`` (same
seed, same states). ``dismiss+ready``: dismiss a dismissable layer, act on a target that is not blocked,
else wait until it is ready (the optimum when time is charged in full: the action's own wait costs the
same). ``dismiss+cutoff:S``: the same, but stop waiting once S seconds are spent and leave the rest to
the action's own timeout (fewer seconds added by Arc, the same seconds in all).

    .venv/bin/python benchmarks/ui_policy_bound.py [--states-per-mechanic 4] [--seed 7] [--cutoffs 1.5,1.75]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ui_policy import make_states, summarise  # noqa: E402


class HandWritten:
    """A fixed rule over the step state, answering with one-hot logits like the ONNX policy."""

    def __init__(self, cutoff_s: float | None) -> None:
        self.cutoff_s = cutoff_s

    def action(self, s: dict) -> str:
        from arc_agent.vision.features import ELAPSED_CAP_S

        if s["dismissable"] and s["step"] == 0:
            return "dismiss"
        blocked = not s["present"] or s["disabled"] or s["animating"] or s["covered"] or s["loading"]
        if not blocked:
            return "act"
        if self.cutoff_s is None:
            return "wait_2500"
        if s["step"] == 0:
            return "wait_1000"
        return "wait_250" if s["elapsed_s"] * ELAPSED_CAP_S < self.cutoff_s else "act"

    def logits(self, state):
        import numpy as np

        from arc_agent.vision.features import ACTIONS, STEP_STATE

        out = np.full(len(ACTIONS), -20.0, dtype=np.float32)
        out[ACTIONS.index(self.action(dict(zip(STEP_STATE, state))))] = 0.0
        return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--states-per-mechanic", type=int, default=4)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--cutoffs", default="1.5,1.75", help="seconds after which the waiting stops")
    args = p.parse_args()

    from training_ray import ui_policy
    from training_ray.states import to_scenario
    from training_ray.ui_env import EpisodeRunner

    scenarios = [to_scenario(s).to_dict() for s in make_states(args.states_per_mechanic, args.seed)]
    _, held = ui_policy.split_held_out(scenarios, 0.25, args.seed)
    modes = {"seed": None, "dismiss+ready": HandWritten(None)}
    modes.update({f"dismiss+cutoff:{c}": HandWritten(float(c)) for c in args.cutoffs.split(",") if c})
    runner = EpisodeRunner()
    results = {}
    try:
        for name, rule in modes.items():
            if rule is not None:
                runner.use_policy(rule)
            eps = [runner.run(sc, "seed" if rule is None else "greedy", seed=r) for sc in held
                   for r in range(args.repeats)]
            results[name] = summarise([e for e in eps if not e.get("error")])
            print(f"{name:22s} " + " ".join(f"{sc['mechanics'][0]}:{'ok' if e['success'] else 'FAIL'}:"
                                            f"{e['seconds'] - e['act_seconds']:.2f}s"
                                            for sc, e in zip([h for h in held for _ in range(args.repeats)], eps)),
                  flush=True)
    finally:
        runner.close()
    base = results["seed"]["added_s"]
    print(f"{'policy':22s} {'fail %':>7s} {'added s':>8s} {'total s':>8s} {'× seed added':>12s}")
    for name, r in results.items():
        print(f"{name:22s} {100 * r['failure_rate']:6.1f}% {r['added_s']:8.3f} {r['seconds']:8.3f} "
              f"{r['added_s'] / base if base else float('nan'):12.2f}")
    print(json.dumps({"held_out_states": len(held), "modes": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
