"""A big set loads in the background: until it is ready calls go through unfixed and say so
(``arc.fix.skipped_reason = "loading"``), ``ARC_PATTERNS_WAIT_MS`` makes the first calls wait for
it, and a small set still loads at once (it fixes the very first call)."""

from __future__ import annotations

import json
import threading

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine, compiled, startup

HOT = from_openai_chat({"model": "gpt-4", "temperature": 0.95, "messages": []})


def write_set(folder, n: int) -> str:
    """A compiled set of ``n`` patterns + one that clamps gpt-4's temperature."""
    records = [{"id": f"p{i}", "pattern": {"model": f"m{i}", "user": f"u{i}"}, "fix": {"seed": i}} for i in range(n)]
    records.append({"id": "hot", "pattern": {"model": "gpt-4", "temperature": {">": 0.9}},
                    "fix": {"temperature": 0.7}})
    source = folder / f"set{n}.json"
    source.write_text(json.dumps({"name": "bg", "patterns": records}))
    target = str(folder / f"set{n}.arcpatterns")
    compiled.compile_bundles([str(source)], target)
    return target


@pytest.fixture(scope="module")
def big_set(tmp_path_factory):
    return write_set(tmp_path_factory.mktemp("bg"), 5000)  # over startup.QUICK_BYTES


@pytest.fixture
def gate(monkeypatch):
    """Holds compiled-file reads until ``gate.set()``: the test decides when the load may end."""
    release = threading.Event()
    read = compiled.read

    def held(path, gentle=False):
        assert release.wait(60), "the test never released the load"
        return read(path, gentle)

    monkeypatch.setattr(compiled, "read", held)
    yield release
    release.set()


def engine_for(path: str) -> PatternEngine:
    return PatternEngine.from_env({"ARC_PATTERNS": path, "ARC_PATTERNS_POLL": "0"}, background=True)


def test_calls_before_the_set_is_ready_are_unfixed_and_say_loading(big_set, gate):
    assert not startup.loads_quickly([big_set])
    engine = engine_for(big_set)
    try:
        assert engine.loading and engine.active  # returned before the load finished
        outcome = engine.fix(HOT)
        assert outcome.kwargs is None
        assert outcome.attributes == {"arc.pattern.matched": False, "arc.fix.applied": False,
                                      "arc.fix.skipped_reason": "loading"}
        assert engine.stats()["loading"] and engine.stats()["skipped"] == {"loading": 1}
        gate.set()
        assert engine.wait_loaded(60) and not engine.loading
        assert engine.fix(HOT).kwargs["temperature"] == 0.7
        assert engine.stats()["patterns"] == 5001
    finally:
        gate.set()
        engine.stop()


def test_wait_ms_makes_the_first_call_wait_for_the_set(big_set, gate, monkeypatch):
    monkeypatch.setattr(startup, "WAIT", startup.WaitBudget(wait_ms=60_000))
    engine = engine_for(big_set)
    try:
        assert engine.loading
        gate.set()  # the load proceeds while the call below waits for it
        outcome = engine.fix(HOT)
        assert outcome.kwargs["temperature"] == 0.7 and "arc.fix.skipped_reason" not in outcome.attributes
    finally:
        engine.stop()


def test_the_wait_ends_at_one_deadline_for_all_calls(big_set, gate, monkeypatch):
    budget = startup.WaitBudget(wait_ms=20)
    monkeypatch.setattr(startup, "WAIT", budget)
    engine = engine_for(big_set)
    try:
        assert engine.fix(HOT).attributes["arc.fix.skipped_reason"] == "loading"  # waited 20 ms, in vain
        assert budget.remaining() == 0.0  # later calls do not wait again
        assert engine.fix(HOT).attributes["arc.fix.skipped_reason"] == "loading"
    finally:
        gate.set()
        engine.stop()


def test_a_small_set_loads_at_once(tmp_path):
    small = write_set(tmp_path, 3)
    assert startup.loads_quickly([small]) and startup.loads_quickly(["demo"])
    engine = engine_for(small)
    try:
        assert not engine.loading and engine.fix(HOT).kwargs["temperature"] == 0.7
    finally:
        engine.stop()


def test_a_registry_set_always_loads_in_the_background(tmp_path):
    assert not startup.loads_quickly(["registry:fixes"])
    assert not startup.loads_quickly([str(tmp_path / "missing.json")])  # the load names the problem


def test_a_bad_set_loading_in_the_background_leaves_the_app_unfixed(tmp_path):
    bad = tmp_path / "bad.arcpatterns"
    bad.write_bytes(compiled.MAGIC + b"\xff" * (startup.QUICK_BYTES + 1))
    engine = engine_for(str(bad))
    try:
        assert engine.wait_loaded(60)
        assert not engine.active and engine.fix(HOT) is not None  # reports, never raises
        assert "not a valid compiled pattern file" in engine.last_error
    finally:
        engine.stop()
