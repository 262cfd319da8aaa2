import json

import pytest

from arc_agent.patterns import PatternEngine


@pytest.fixture
def write_bundle(tmp_path):
    """Write a bundle file (JSON by default, YAML text if ``text`` is given); returns its path."""

    def _write(patterns=None, name="b.json", text=None, **meta):
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        else:
            doc = {"version": meta.pop("version", 1), "name": meta.pop("bundle_name", "test"), **meta,
                   "patterns": patterns}
            path.write_text(json.dumps(doc))
        return str(path)

    return _write


@pytest.fixture
def engine():
    e = PatternEngine(poll_interval=0)
    yield e
    e.stop()


class Clock:
    """A settable clock for TTL tests (no sleeping)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()
