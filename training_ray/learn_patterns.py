"""``arc learn patterns``: mine failure predicates from ``arc_llm_calls``, verify candidate fixes by
replaying captured requests (parallel Ray tasks), write a bundle of the verified ones, optionally
publish it into the registry. Runs locally (``ray.init()``, ``RAY_ADDRESS`` honoured) or as
``ray job submit -- python -m training_ray.learn_patterns ...``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
import time
import uuid

from arc_agent.collector.reader import since_seconds
from arc_agent.collector.schema import parse_duration
from arc_agent.progress import Progress

from . import fix_catalogue, pattern_mining
from .source_args import add_source_arguments, source_from_args
from .span_source import SpanSource

OBSERVATIONAL_FACTOR = 0.5  # unverified: below the agent's default threshold (0.5), so reported only
MIN_RESOLVED_RATE = 0.8


def parse_args(argv: list | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="arc learn patterns", description=__doc__.split("\n\n")[0])
    add_source_arguments(p, since="24h", what="calls")
    p.add_argument("--capture", help="cassette of captured requests (ARC_CAPTURE) to verify candidates with")
    p.add_argument("--verify-base-url", help="provider to replay against (required with --capture)")
    p.add_argument("--max-replays", type=int, default=400, help="replay budget over all candidates")
    p.add_argument("--min-support", type=int, default=5, help="failures a predicate must cover")
    p.add_argument("--ttl", default="7d", help="lifetime of learned patterns (default %(default)s)")
    p.add_argument("--publish", action="store_true", help="publish the bundle as a new registry version")
    p.add_argument("--name", default="learned", help="registry name (default %(default)s)")
    p.add_argument("--channel", default="canary", help="registry channel to point at it (default %(default)s)")
    p.add_argument("--num-cpus", type=int, default=None, help="local Ray CPUs (no RAY_ADDRESS)")
    p.add_argument("--out", required=True, help="bundle file to write (JSON)")
    args = p.parse_args(argv)
    if args.capture and not args.verify_base_url:
        p.error("--capture needs --verify-base-url (the provider to replay against)")
    _check_before_mining(p, args)
    return args


def _check_before_mining(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A typo is named by its option at once, not minutes later (or as another option's error)."""
    from arc_agent.collector.schema import SchemaError

    try:  # --since is checked by its own type (source_args)
        parse_duration(args.ttl)
    except SchemaError:
        p.error(f"--ttl {args.ttl!r}: expected a number and a unit s/m/h/d, e.g. 24h or 7d")
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        p.error(f"--out {args.out}: its folder {folder} does not exist")
    if args.capture and not os.path.exists(args.capture):
        p.error(f"--capture {args.capture}: no such cassette")


def _stage(name: str) -> None:
    print(f"arc learn: {name}", file=sys.stderr, flush=True)


def _pattern_id(finding, fix: dict) -> str:
    digest = hashlib.sha256(json.dumps([finding.predicate.condition, fix], sort_keys=True).encode()).hexdigest()
    return f"learned-{pattern_mining.kind_name(finding.kind).replace(':', '-')}-{digest[:8]}"


def build_candidates(table, findings: list) -> list:
    out = []
    for finding in findings:
        for fix in fix_catalogue.candidates(table, finding):
            out.append({"finding": finding, "kind": finding.kind, "pattern": finding.predicate.condition, "fix": fix})
    return out


def choose(candidates: list, figures: list | None, now: float, ttl: int, job_id: str) -> list:
    """One pattern per failure kind: its first candidate that passed verification (or, without
    replays, its first one). Candidates come best evidence first (``pattern_mining.mine``: coverage,
    precision, then the narrower predicate) and most specific fix first; a replay only gates them,
    since its sample is small and a 429 during a replay shrinks it at random."""
    best: dict = {}
    for i, cand in enumerate(candidates):
        f = cand["finding"]
        if cand["kind"] in best:
            continue
        provenance = {"job_id": job_id, **f.evidence()}
        if figures is None:
            confidence, verified = round(OBSERVATIONAL_FACTOR * f.precision_lb, 4), False
        else:
            fig = figures[i]
            provenance["replay"] = fig
            if fig["failing"] == 0 or fig["broken"] or fig["resolved"] < MIN_RESOLVED_RATE * fig["failing"]:
                continue
            confidence, verified = round(pattern_mining.wilson_lower(fig["resolved"], fig["failing"]), 4), True
        record = {"id": _pattern_id(f, cand["fix"]), "pattern": cand["pattern"], "fix": cand["fix"],
                  "confidence": confidence, "priority": 10, "verified": verified,
                  "expires_at": datetime.datetime.fromtimestamp(now + ttl, datetime.timezone.utc).strftime(
                      "%Y-%m-%dT%H:%M:%SZ"),
                  "description": f"learned: {f.predicate.name} fails as {pattern_mining.kind_name(f.kind)}",
                  "provenance": provenance}
        best[cand["kind"]] = record
    return list(best.values())


def run(args: argparse.Namespace, source: SpanSource | None = None) -> int:
    """The job; ``source`` overrides the one the options name (it sees every query and job row)."""
    import ray

    job_id = f"learn-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    source = source or source_from_args(args)
    started = time.time()
    job = {"id": job_id, "kind": "patterns", "status": "running", "started": started}
    source.write_job(job)
    metrics: dict = {}
    try:
        _stage(f"mining {source.describe()} (since {args.since})")
        t0 = time.monotonic()
        rows = source.query(pattern_mining.cells_sql(since_seconds(args.since)))
        table = pattern_mining.CellTable([pattern_mining.Cell.from_row(r) for r in rows])
        findings = pattern_mining.mine(table, min_support=args.min_support)
        candidates = build_candidates(table, findings)
        metrics.update(cells=len(rows), calls=int(table.n.sum()), findings=len(findings),
                       candidates=len(candidates), mining_seconds=round(time.monotonic() - t0, 3))
        _stage(f"{metrics['calls']} calls in {len(rows)} cells: {len(findings)} predicates, "
               f"{len(candidates)} candidate fixes")
        figures = None
        if args.capture and candidates:
            t0 = time.monotonic()
            figures = _verify(args, candidates, ray)
            metrics.update(replays=sum(f["failing"] + f["healthy"] + f["transient"] for f in figures),
                           replay_seconds=round(time.monotonic() - t0, 3),
                           ray_job_id=ray.get_runtime_context().get_job_id())  # which Ray job (cluster) replayed
            unanswered = sum(f["unanswered"] for f in figures)
            if unanswered:
                metrics.update(unanswered_replays=unanswered)
                _stage(f"{unanswered} of {metrics['replays']} replays got no answer from {args.verify_base_url} "
                       "(--verify-base-url): they verify nothing")
        patterns = choose(candidates, figures, time.time(), parse_duration(args.ttl), job_id)
        bundle = {"name": args.name, "version": int(started), "created_at": datetime.datetime.now(
            datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "job_id": job_id, "patterns": patterns}
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(bundle, fh, indent=2)
        metrics.update(patterns=len(patterns), verified=sum(p["verified"] for p in patterns))
        _stage(f"wrote {len(patterns)} pattern(s) to {args.out}")
        artifact = ""
        if args.publish:
            from arc_agent.registry import Registry, default_root

            manifest = Registry(os.environ.get("ARC_REGISTRY") or default_root()).publish(
                "patterns", args.name, args.out, metrics=metrics, job_id=job_id, channel=args.channel)
            artifact = f"patterns/{args.name}@{manifest.version}"
            _stage(f"published {artifact} (channel {args.channel})")
        source.write_job({**job, "status": "succeeded", "finished": time.time(), "metrics": metrics,
                          "artifact": artifact})
        print(json.dumps({"job_id": job_id, "out": args.out, "artifact": artifact, **metrics}))
        return 0
    except Exception as exc:
        source.write_job({**job, "status": "failed", "finished": time.time(),
                          "metrics": {**metrics, "error": f"{type(exc).__name__}: {exc}"[:500]}})
        raise


def _verify(args: argparse.Namespace, candidates: list, ray) -> list:
    from arc_agent.replay import read_records

    from . import pattern_verify

    records = list(read_records(args.capture))
    if not ray.is_initialized():
        if os.environ.get("RAY_ADDRESS"):
            ray.init()
        else:
            ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    budget = sum(len(f) + len(h) for _, f, h in pattern_verify.plan(candidates, records, args.max_replays))
    with Progress("arc learn: replay", budget) as bar:
        return pattern_verify.verify(candidates, records, args.verify_base_url, args.max_replays, bar.advance)


def main(argv: list | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except Exception as exc:  # one clear line (e.g. a ClickHouse server that cannot be reached), no traceback
        print(f"arc learn: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
