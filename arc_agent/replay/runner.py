"""Replay records with and without a fixer and compare: the same path the agent takes
(``llm/request.py`` view → ``Fixer.fix`` → the kwargs it returns), then the real SDK call."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from arc_agent.llm.fixer import Fixer
from arc_agent.llm.request import from_anthropic_messages, from_openai_chat, from_openai_responses

from .records import Record
from .send import Sender

VIEWS = {("openai", "chat.completions"): from_openai_chat, ("openai", "responses"): from_openai_responses,
         ("anthropic", "messages"): from_anthropic_messages}
NO_PATTERN = "(no pattern)"


@dataclass
class ReplayResult:
    record: Record
    before: str
    after: str
    pattern_ids: tuple = ()
    changed: bool = False
    error_after: dict = field(default_factory=dict)

    @property
    def fixed(self) -> bool:
        return self.before != "ok" and self.after == "ok"

    @property
    def broken(self) -> bool:
        return self.before == "ok" and self.after != "ok"


def fixed_kwargs(fixer: Fixer | None, record: Record) -> tuple:
    """(kwargs to send, ids of the patterns that changed them) as the agent would compute them."""
    if fixer is None or not fixer.active:
        return record.kwargs, ()
    out = fixer.fix(VIEWS[(record.provider, record.operation)](record.kwargs))
    if out is None or out.kwargs is None:
        return record.kwargs, ()
    ids = out.attributes.get("arc.fix.pattern_ids") or ()
    return out.kwargs, tuple(ids)


class Replayer:
    """``baseline``: re-send the unfixed request for "before" (else the recorded outcome is used)."""

    def __init__(self, sender: Sender, fixer: Fixer | None, baseline: bool = True) -> None:
        self.sender = sender
        self.fixer = fixer
        self.baseline = baseline

    def replay(self, record: Record) -> ReplayResult:
        kwargs, ids = fixed_kwargs(self.fixer, record)
        changed = kwargs is not record.kwargs
        before = record.outcome or "ok"
        if self.baseline or not changed:
            before, _ = self.sender.send(record.provider, record.operation, record.kwargs)
        if not changed:
            return ReplayResult(record, before, before)
        after, error = self.sender.send(record.provider, record.operation, kwargs)
        return ReplayResult(record, before, after, ids, True, error)

    def run(self, records: Iterable[Record], on_result: Callable[[ReplayResult], None] | None = None) -> list:
        results = []
        for record in records:
            result = self.replay(record)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results


def summarize(results: Iterable[ReplayResult]) -> dict:
    """Per pattern (``NO_PATTERN`` for calls nothing changed): calls, failures before/after, fixed, broken."""
    table: dict = defaultdict(lambda: {"calls": 0, "failed_before": 0, "failed_after": 0, "fixed": 0, "broken": 0})
    for r in results:
        for pid in r.pattern_ids or (NO_PATTERN,):
            row = table[pid]
            row["calls"] += 1
            row["failed_before"] += r.before != "ok"
            row["failed_after"] += r.after != "ok"
            row["fixed"] += r.fixed
            row["broken"] += r.broken
    return dict(table)
