"""Train the sequential UI tool policy with GRPO on Ray from replayed ``ui.<action>`` states; export ONNX.

    arc train ui-policy --store ~/.arc/store --since 7d --iterations 10 --group 8 --workers 2 --publish
    python -m training_ray.ui_policy --url http://127.0.0.1:8124 ...          # the same, directly
    RAY_ADDRESS=ray://head:10001 arc train ui-policy --clickhouse tcp://ch:9000 ...   # a cluster
    ray job submit --runtime-env-json '{"working_dir": "."}' -- python -m training_ray.ui_policy --url ...

States come from ``arc_ui_actions`` (``states.py``), each replayed by Ray actors that hold one headless
Chromium each (``ui_env.py``, the agent's own observation code, confidence model and tools). Per
iteration: the policy is exported to ONNX and loaded by every actor through the agent's loader, G
rollouts per state are sampled, rewards and group advantages computed, and μ inner epochs of the
clipped, KL-regularised GRPO loss run (``grpo.py``). At the end the ONNX export is checked against
torch with onnxruntime and loaded through the agent's contract before it is written (and with
``--publish`` put on the registry's ``canary`` channel). The job records rows in
``arc_training_jobs`` (``span_source.py``). Seeds make the sampling repeatable.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
import warnings

from arc_agent.progress import Progress
from training_ray.source_args import add_source_arguments, source_from_args

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = "/usr/bin/chromium"  # Debian's; ui_env.CHROMIUM
CONTRACT = "sequential-1"
ONNX_TOLERANCE = 1e-4


def parse_args(argv: list | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="arc train ui-policy", description=__doc__.split("\n\n")[0])
    add_source_arguments(p, since="7d", what="states")
    p.add_argument("--iterations", type=int, default=10, help="GRPO iterations (default %(default)s)")
    p.add_argument("--group", type=int, default=8, help="rollouts per state (GRPO group size G; default %(default)s)")
    p.add_argument("--workers", type=int, default=2,
                   help="Ray actors, one headless Chromium each (default %(default)s)")
    p.add_argument("--states-per-iteration", type=int, default=8, help="states per batch (default %(default)s)")
    p.add_argument("--inner-epochs", type=int, default=4, help="μ: optimisation passes per batch (default %(default)s)")
    p.add_argument("--epsilon", type=float, default=0.2, help="clip range of the ratio (default %(default)s)")
    p.add_argument("--beta", type=float, default=0.04,
                   help="weight of the k3 KL to the reference (default %(default)s)")
    p.add_argument("--lam", type=float, default=0.5,
                   help="λ: reward cost per second spent (default 0.5: the best held-out figures, RESULTS.md)")
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate (default %(default)s)")
    p.add_argument("--time-cost", choices=("total", "added"), default="total",
                   help="seconds λ charges: the whole episode (default), or only what Arc adds before the action")
    p.add_argument("--entropy", type=float, default=0.01,
                   help="weight of an entropy bonus (an addition to the spec's GRPO that keeps rare tools such "
                        "as dismiss explored; 0 = the spec's GRPO exactly; default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of sampling and initialisation (default %(default)s)")
    p.add_argument("--held-out", type=float, default=0.25,
                   help="share of states kept out of training (default %(default)s)")
    p.add_argument("--blob-dir", default=os.environ.get("ARC_BLOB_DIR", ".arc/blobs"),
                   help="blob store with full_data snapshots (default ARC_BLOB_DIR or .arc/blobs)")
    p.add_argument("--out", default=None, help="folder for the policy artifact (default: a temp folder)")
    p.add_argument("--publish", action="store_true", help="publish to the registry on channel canary")
    p.add_argument("--name", default="ui-policy", help="registry name (kind models; default %(default)s)")
    p.add_argument("--registry", default=None, help="registry root (default ARC_REGISTRY or ~/.arc/registry)")
    p.add_argument("--chromium", default=CHROMIUM,
                   help="Chromium the replays run in, on every Ray node (default %(default)s)")
    args = p.parse_args(argv)
    check_usage(p, args)
    return args


def check_usage(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Mistakes refused before Ray starts or the store is read (a cluster's nodes, not this driver,
    need Chromium when ``RAY_ADDRESS`` is set)."""
    from arc_agent.registry.names import check_name
    if not os.environ.get("RAY_ADDRESS"):  # local actors: a name on PATH or a relative path made absolute
        found = shutil.which(args.chromium)
        if found is None:
            p.error(f"--chromium: no Chromium at {args.chromium} (the replays run in it: apt-get install chromium, "
                    "or --chromium PATH)")
        args.chromium = os.path.abspath(found)
    try:
        check_name(args.name)
    except ValueError as exc:
        p.error(f"--name: {exc}")
    if args.store and not os.path.isdir(os.path.expanduser(args.store)):
        p.error(f"--store {args.store}: no such folder (the store `arc collector --store` writes)")
    for name in ("iterations", "group", "workers", "states_per_iteration", "inner_epochs"):
        if not 1 <= getattr(args, name) <= 10_000:
            p.error(f"--{name.replace('_', '-')} must be between 1 and 10000")
    if args.group < 2:
        p.error("--group must be at least 2 (advantages are relative to the group)")


def iteration_note(done: int, total: int, m: dict) -> str:
    """An iteration's figures, as the progress display shows them (beside the bar, or a line when piped)."""
    return (f"iteration {done}/{total} reward {m['reward']:.3f} success {m['success']:.2f} kl {m['kl']:.4f} "
            f"s/episode {m['seconds']:.2f}")


def manifest_for(version: str, threshold: float, extra: dict | None = None) -> dict:
    from arc_agent.vision.features import ACTIONS, MAX_STEPS, STEP_STATE

    return {"version": version, "contract": CONTRACT, "state": list(STEP_STATE), "actions": list(ACTIONS),
            "max_steps": MAX_STEPS, "threshold": threshold, **(extra or {})}


def export_onnx(policy, n_in: int) -> bytes:
    import torch

    buf = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter on purpose: the dynamo one needs onnxscript
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(policy, (torch.zeros(1, n_in),), buf, input_names=["state"],
                          output_names=["action_logits"], dynamic_axes={"state": {0: "n"}, "action_logits": {0: "n"}},
                          opset_version=17, dynamo=False)
    return buf.getvalue()


def check_onnx(policy, onnx_bytes: bytes, manifest: dict, states: list, seed: int) -> float:
    """Max |onnxruntime − torch| over recorded and random states; the agent's loader must accept it."""
    import numpy as np
    import onnx

    from arc_agent.vision.policy import SequentialPolicy
    from training_ray import grpo

    onnx.checker.check_model(onnx.load_from_string(onnx_bytes))
    rng = np.random.default_rng(seed)
    n_in = len(manifest["state"])
    probe = np.asarray(states[:256] + rng.random((64, n_in)).tolist(), dtype=np.float32)
    agent = SequentialPolicy(onnx_bytes, manifest)
    got = np.asarray([agent.logits(row) for row in probe])
    diff = float(np.abs(got - grpo.logits_np(policy, probe)).max())
    if not diff <= ONNX_TOLERANCE:
        raise RuntimeError(f"ONNX export differs from torch by {diff:.2e} (> {ONNX_TOLERANCE})")
    return diff


def _ray_init(workers: int):
    import ray

    address = os.environ.get("RAY_ADDRESS")
    if address:  # a cluster: the code reaches its workers through the job's runtime env (ray job submit)
        ray.init(address=address, log_to_driver=False)
        return ray
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=max(2, workers), include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    return ray


def rollouts(ray, actors, scenarios: list, group: int, seed: int, iteration: int) -> list:
    """G episodes per scenario, spread over the actors; returns [[episode] * G] in scenario order."""
    futures = []
    for si, sc in enumerate(scenarios):
        for g in range(group):
            actor = actors[(si * group + g) % len(actors)]
            futures.append(actor.run.remote(sc, "sample", seed * 1_000_003 + iteration * 10_007 + si * 101 + g))
    done = ray.get(futures)
    return [done[i * group:(i + 1) * group] for i in range(len(scenarios))]


def train(train_scenarios: list, args: argparse.Namespace, job_id: str, threshold: float) -> tuple:
    """(policy, metrics, recorded states): the GRPO loop on Ray."""
    import torch

    from arc_agent.vision.features import ACTIONS, STEP_STATE
    from training_ray import grpo
    from training_ray.ui_env import EpisodeRunner, episode_reward

    ray = _ray_init(args.workers)
    ray_job_id = ray.get_runtime_context().get_job_id()  # which Ray job (on which cluster) ran the rollouts
    rng = random.Random(args.seed)
    policy = grpo.build_policy(len(STEP_STATE), len(ACTIONS), seed=args.seed)
    ref = copy.deepcopy(policy).eval()
    optimizer = torch.optim.Adam(policy.parameters(), lr=args.lr)
    actor_cls = ray.remote(num_cpus=1)(EpisodeRunner)
    actors = [actor_cls.remote(threshold=threshold, chromium=getattr(args, "chromium", CHROMIUM))
              for _ in range(args.workers)]
    bar = Progress("ui-policy", total=args.iterations, unit="iteration").start()
    history, seen_states = [], []
    t0 = time.monotonic()
    try:
        for it in range(args.iterations):
            batch = balanced_batch(train_scenarios, args.states_per_iteration, rng)
            manifest = manifest_for(f"{job_id}-it{it}", threshold)
            onnx_bytes = export_onnx(policy, len(STEP_STATE))
            ray.get([a.set_policy.remote(onnx_bytes, manifest) for a in actors])
            groups_eps = rollouts(ray, actors, batch, args.group, args.seed, it)
            groups, rewards, successes, seconds = [], [], [], []
            for eps in groups_eps:
                eps = [e for e in eps if not e.get("error")]
                if len(eps) < 2:
                    continue
                group = []
                for e in eps:
                    r = episode_reward(e, threshold, args.lam, getattr(args, "time_cost", "total"))
                    group.append(grpo.Rollout([s[0] for s in e["steps"]], [s[1] for s in e["steps"]],
                                              [s[2] for s in e["steps"]], r))
                    rewards.append(r)
                    successes.append(1.0 if e["success"] else 0.0)
                    seconds.append(e["seconds"])
                    seen_states.extend(s[0] for s in e["steps"])
                groups.append(group)
            stats = grpo.update(policy, ref, optimizer, groups, args.inner_epochs, args.epsilon, args.beta,
                                getattr(args, "entropy", 0.0))
            m = {"iteration": it + 1, "reward": _mean(rewards), "success": _mean(successes),
                 "kl": stats["kl"], "clipped": stats["clipped"], "seconds": _mean(seconds),
                 "episodes": len(rewards), "steps": stats["steps"]}
            history.append(m)
            bar.advance(note=iteration_note(it + 1, args.iterations, m))
    finally:
        bar.close()
        for a in actors:
            try:
                ray.get(a.close.remote(), timeout=10)
            except Exception:
                pass
        ray.shutdown()
    last = history[-1]
    metrics = {"iterations": len(history), "reward": last["reward"], "success_rate": last["success"],
               "kl": last["kl"], "seconds_per_episode": last["seconds"],
               "reward_first": history[0]["reward"], "train_seconds": round(time.monotonic() - t0, 2),
               "workers": args.workers, "group": args.group, "states": len(train_scenarios), "ray_job_id": ray_job_id}
    return policy, metrics, seen_states


def balanced_batch(scenarios: list, size: int, rng: random.Random) -> list:
    """``size`` scenarios taken in turn from each failure-mechanics group (groups and members in a
    seeded random order), so a rare mechanic is in every batch instead of one batch in several."""
    if len(scenarios) <= size:
        return list(scenarios)
    groups: dict = {}
    for sc in scenarios:
        groups.setdefault(tuple(sc.get("mechanics") or ()), []).append(sc)
    queues = [rng.sample(members, len(members)) for _, members in sorted(groups.items())]
    rng.shuffle(queues)
    batch: list = []
    while len(batch) < size:
        for queue in queues:
            if queue and len(batch) < size:
                batch.append(queue.pop())
    return batch


def _mean(values: list) -> float:
    return float(sum(values) / len(values)) if values else 0.0


def split_held_out(items: list, share: float, seed: int) -> tuple:
    """(train, held-out), stratified by failure mechanics and deterministic by seed; nothing is held
    out below 4 states."""
    if len(items) < 4:
        return list(items), []
    rng = random.Random(seed)
    groups: dict = {}
    for i, item in enumerate(items):
        groups.setdefault(tuple(item.get("mechanics") or ()), []).append(i)
    held = set()
    for members in groups.values():
        rng.shuffle(members)
        held.update(members[:round(len(members) * share)])
    return [x for i, x in enumerate(items) if i not in held], [x for i, x in enumerate(items) if i in held]


def run(args: argparse.Namespace, source=None) -> int:
    """The job; ``source`` (a ``SpanSource``) overrides the one the options name."""
    from arc_agent.vision.artifacts import write_artifact
    from arc_agent.vision.features import STEP_STATE
    from training_ray import states as states_mod
    from training_ray.ui_env import THRESHOLD

    job_id = f"ui-policy-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    source = source or source_from_args(args)
    job = {"id": job_id, "kind": "ui-policy", "status": "running", "started": time.time()}
    _record(source, job)
    try:
        rows = source.query(states_mod.query_sql(args.since, THRESHOLD))
        found = [s for s in (states_mod.from_row(r) for r in rows) if s is not None]
        if not found:
            raise RuntimeError(f"no states worth replaying in {source.describe()} over the last {args.since}")
        scenarios = [states_mod.to_scenario(s, args.blob_dir).to_dict() for s in found]
        train_sc, held = split_held_out(scenarios, args.held_out, args.seed)
        print(f"ui-policy: {len(found)} states ({len(train_sc)} train, {len(held)} held out; "
              f"{sum(s['source'] == 'snapshot' for s in scenarios)} from snapshots) from {source.describe()}",
              file=sys.stderr)
        policy, metrics, seen = train(train_sc, args, job_id, THRESHOLD)
        manifest = manifest_for(job_id, THRESHOLD)
        onnx_bytes = export_onnx(policy, len(STEP_STATE))
        metrics["onnx_max_abs_diff"] = check_onnx(policy, onnx_bytes, manifest, seen, args.seed)
        out = args.out or tempfile.mkdtemp(prefix="ui-policy-")
        extra = {k: v for k, v in manifest.items() if k not in ("version",)}
        write_artifact(out, "policy.onnx", onnx_bytes, job_id, metrics=metrics, job_id=job_id, **extra)
        with open(os.path.join(out, "held_out.jsonl"), "w", encoding="utf-8") as fh:
            for sc in held:
                fh.write(json.dumps(sc) + "\n")
        artifact = ""
        if args.publish:
            from arc_agent.registry import Registry

            published = Registry(args.registry).publish("models", args.name, out, metrics=metrics, job_id=job_id,
                                                        channel="canary")
            artifact = f"models/{args.name}@{published.version}"
        _record(source, {**job, "status": "succeeded", "finished": time.time(), "metrics": metrics,
                         "artifact": artifact})
        print(json.dumps({"job_id": job_id, "out": out, "artifact": artifact, **metrics}))
        return 0
    except BaseException as exc:
        _record(source, {**job, "status": "failed", "finished": time.time(),
                         "metrics": {"error": f"{type(exc).__name__}: {exc}"[:500]}})
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        print(f"ui-policy: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _record(source, row: dict) -> None:
    """A job row; a store that cannot take it is reported, not fatal to the training."""
    try:
        source.write_job(row)
    except Exception as exc:
        print(f"ui-policy: job row not recorded ({type(exc).__name__}: {exc})", file=sys.stderr)


def main(argv: list | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
