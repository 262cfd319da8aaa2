"""Reading a cassette (JSON Lines, ``arc_agent/llm/cassette`` format v1) into validated records.

Bounded: a line above ``MAX_LINE_BYTES`` or a file above ``MAX_FILE_BYTES`` is an error naming the
file; records of another version or with a malformed field are skipped and counted, never sent.
``PATH.1`` (the rotated older half) is read first when it exists.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

MAX_LINE_BYTES = 8 << 20
MAX_FILE_BYTES = 256 << 20
OPERATIONS = {("openai", "chat.completions"), ("openai", "responses"), ("anthropic", "messages")}


class CassetteError(ValueError):
    pass


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


def _record(raw: object) -> Record | None:
    if not isinstance(raw, dict) or raw.get("v") != 1:
        return None
    provider, operation, kwargs = raw.get("provider"), raw.get("operation"), raw.get("kwargs")
    if (provider, operation) not in OPERATIONS or not isinstance(kwargs, dict) or not isinstance(
            kwargs.get("model"), str):
        return None
    fix = raw.get("fix") if isinstance(raw.get("fix"), dict) else {}
    ids = fix.get("pattern_ids") if isinstance(fix.get("pattern_ids"), list) else []
    error = raw.get("error") if isinstance(raw.get("error"), dict) else {}
    t = raw.get("time")
    return Record(provider, operation, kwargs, str(raw.get("outcome") or ""), error,
                  tuple(str(i) for i in ids), float(t) if isinstance(t, (int, float)) else 0.0,
                  str(raw.get("span_id") or ""))


def read_records(path: str | os.PathLike, stats: dict | None = None) -> Iterator[Record]:
    """The cassette's usable records, oldest file first; ``stats["skipped"]`` counts the others."""
    base = Path(path)
    files = [p for p in (base.with_name(base.name + ".1"), base) if p.is_file()]
    if not files:
        raise CassetteError(f"no cassette at {base}")
    counts = stats if stats is not None else {}
    counts.setdefault("skipped", 0)
    for file in files:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CassetteError(f"{file}: {size} bytes is above the {MAX_FILE_BYTES}-byte cassette limit")
        with open(file, "rb") as fh:
            for n, line in enumerate(iter(lambda: fh.readline(MAX_LINE_BYTES + 1), b""), 1):
                if len(line) > MAX_LINE_BYTES:
                    raise CassetteError(f"{file}:{n}: a record above {MAX_LINE_BYTES} bytes")
                if not line.strip():
                    continue
                try:
                    record = _record(json.loads(line))
                except ValueError:
                    record = None
                if record is None:
                    counts["skipped"] += 1
                else:
                    yield record
