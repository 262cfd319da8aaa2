"""Cassette records (``arc_agent/llm/cassette.py`` reads and validates them) as typed replay records.

The bounds (line and file size) and the format checks are the cassette reader's; this adds only
what a replay needs on top: a model to send to. A record without one is skipped and counted in
``stats["skipped"]`` like any other unusable line. ``PATH.1`` (the rotated older half) comes first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterator

from arc_agent.llm.cassette import CassetteError, read

__all__ = ["CassetteError", "Record", "read_records"]


@dataclass
class Record:
    provider: str
    operation: str
    kwargs: dict
    outcome: str = ""
    error: dict = field(default_factory=dict)
    pattern_ids: tuple = ()
    time: float = 0.0
    span_id: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome not in ("", "ok")


def _record(raw: dict) -> Record | None:
    kwargs = raw["kwargs"]
    if not isinstance(kwargs.get("model"), str):
        return None
    fix = raw.get("fix") if isinstance(raw.get("fix"), dict) else {}
    ids = fix.get("pattern_ids") if isinstance(fix.get("pattern_ids"), list) else []
    error = raw.get("error") if isinstance(raw.get("error"), dict) else {}
    t = raw.get("time")
    return Record(raw["provider"], raw["operation"], kwargs, str(raw.get("outcome") or ""), error,
                  tuple(str(i) for i in ids), float(t) if isinstance(t, (int, float)) else 0.0,
                  str(raw.get("span_id") or ""))


def read_records(path: str | os.PathLike, stats: dict | None = None) -> Iterator[Record]:
    """The cassette's usable records, oldest file first; ``stats["skipped"]`` counts the others."""
    counts = stats if stats is not None else {}
    for raw in read(path, stats=counts):
        record = _record(raw)
        if record is None:
            counts["skipped"] += 1
        else:
            yield record
