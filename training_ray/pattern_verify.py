"""Verification: replay captured requests with one candidate pattern, as parallel Ray tasks.

Failing requests of the candidate's kind that its pattern matches must no longer fail that way
(``resolved``); healthy requests it matches must stay healthy. A 429/5xx on the replay, or no answer at
all (the provider unreachable), is noise: neither a resolution nor a break. The confidence written is
the Wilson lower bound of the resolved rate.
"""

from __future__ import annotations

import ray

TRANSIENT = {429, 500, 502, 503, 504}


def record_kind(outcome: str, error: dict) -> tuple | None:
    if outcome in ("", "ok"):
        return None
    status = error.get("status") if isinstance(error.get("status"), int) else 0
    return (outcome, error.get("code") or "", error.get("param") or "", status or 0)


def engine_for(pattern: dict, fix: dict):
    from arc_agent.patterns import PatternEngine

    engine = PatternEngine(poll_interval=0, threshold=0.0)
    engine.register(pattern, fix, id="candidate")
    return engine


def matches(engine, record) -> bool:
    from arc_agent.replay.runner import VIEWS

    out = engine.fix(VIEWS[(record.provider, record.operation)](record.kwargs))
    return bool(out is not None and out.attributes.get("arc.pattern.matched"))


@ray.remote
def replay_task(base_url: str, pattern: dict, fix: dict, records: list) -> list:
    """[(was_healthy, outcome after, kind after, no answer)] for each (healthy, Record) pair."""
    from arc_agent.replay.runner import fixed_kwargs
    from arc_agent.replay.send import Sender

    engine = engine_for(pattern, fix)
    sender = Sender(base_url)
    out = []
    try:
        for healthy, record in records:
            kwargs, _ = fixed_kwargs(engine, record)
            unanswered = sender.unreachable
            outcome, error = sender.send(record.provider, record.operation, kwargs)
            out.append((healthy, outcome, record_kind(outcome, error), sender.unreachable > unanswered))
    finally:
        sender.close()
    return out


def plan(candidate_list: list, records: list, max_replays: int, chunk: int = 8) -> list:
    """Per candidate (index, failing records, healthy records) within the replay budget."""
    per = max(4, max_replays // max(1, len(candidate_list)))
    plans = []
    for i, cand in enumerate(candidate_list):
        engine = engine_for(cand["pattern"], cand["fix"])
        failing = [r for r in records if record_kind(r.outcome, r.error) == cand["kind"] and matches(engine, r)]
        healthy = [r for r in records if not r.failed and matches(engine, r)]
        n_fail = min(len(failing), max(1, per * 2 // 3))
        plans.append((i, failing[:n_fail], healthy[:max(0, per - n_fail)]))
    return plans


def verify(candidate_list: list, records: list, base_url: str, max_replays: int, on_done=None) -> list:
    """Replay figures per candidate: {failing, resolved, fixed_ok, healthy, broken, transient, unanswered};
    a replay answered with a 429/5xx, or not answered (``unanswered`` too), is counted as ``transient`` only
    (it was counted as resolved when the provider could not be reached: every fix "verified")."""
    figures = [{"failing": 0, "resolved": 0, "fixed_ok": 0, "healthy": 0, "broken": 0, "transient": 0,
                "unanswered": 0}
               for _ in candidate_list]
    pending = {}
    for i, failing, healthy in plan(candidate_list, records, max_replays):
        items = [(False, r) for r in failing] + [(True, r) for r in healthy]
        for start in range(0, len(items), 8):
            batch = items[start:start + 8]
            ref = replay_task.remote(base_url, candidate_list[i]["pattern"], candidate_list[i]["fix"], batch)
            pending[ref] = (i, len(batch))
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        i, size = pending.pop(done[0])
        kind = candidate_list[i]["kind"]
        for healthy, outcome, after_kind, unanswered in ray.get(done[0]):
            f = figures[i]
            if unanswered or (after_kind and after_kind[3] in TRANSIENT):
                f["transient"] += 1  # the provider's noise (or silence) says nothing about the fix either way
                f["unanswered"] += unanswered
                continue
            if healthy:
                f["healthy"] += 1
                f["broken"] += outcome != "ok"
            else:
                f["failing"] += 1
                f["resolved"] += after_kind != kind
                f["fixed_ok"] += outcome == "ok"
        if on_done is not None:
            on_done(size)
    return figures
