"""Engine behaviour: confidence gate, priorities and conflicts, TTL, registration, env, stats."""

import json
import logging

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine, PatternError
from arc_agent.telemetry import attributes as A


def chat(**kw):
    kw.setdefault("model", "gpt-4")
    kw.setdefault("messages", [{"role": "user", "content": "hi"}])
    return from_openai_chat(kw)


def test_inactive_until_a_pattern_exists(engine):
    assert engine.active is False
    pid = engine.register({"model": "gpt-4"}, {"seed": 1})
    assert engine.active is True
    assert engine.unregister(pid) is True and engine.active is False
    assert engine.unregister(pid) is False


def test_non_matching_outcome_is_cheap_and_reports_lookup(engine):
    engine.register({"model": "gpt-4"}, {"seed": 1})
    out = engine.fix(chat(model="o3"))
    assert out.kwargs is None
    assert out.attributes[A.ARC_PATTERN_MATCHED] is False
    assert out.attributes[A.ARC_PATTERN_LOOKUP_US] >= 0
    assert out.attributes[A.ARC_PATTERNS_BUNDLE_VERSION] == "runtime"


def test_confidence_gate_reports_but_does_not_apply():
    e = PatternEngine(threshold=0.5, poll_interval=0)
    e.register({"model": "gpt-4"}, {"temperature": 0.1}, id="unsure", confidence=0.49)
    out = e.fix(chat(temperature=1.0))
    assert out.kwargs is None
    assert out.attributes[A.ARC_PATTERN_MATCHED] is True
    assert out.attributes[A.ARC_FIX_APPLIED] is False
    assert out.attributes[A.ARC_FIX_SKIPPED_REASON] == "low_confidence"
    assert out.attributes[A.ARC_FIX_PATTERN_IDS] == ("unsure",)
    assert A.ARC_FIX_CONFIDENCE not in out.attributes
    e.register({"model": "gpt-4"}, {"temperature": 0.1}, id="unsure", confidence=0.5)  # replaces
    assert e.fix(chat(temperature=1.0)).kwargs["temperature"] == 0.1


def test_priority_order_and_conflicts_are_deterministic(engine):
    engine.register({"model": "gpt-4"}, {"temperature": 0.1, "seed": 1}, id="low", priority=1, confidence=0.6)
    engine.register({"model": "gpt-4"}, {"temperature": 0.9}, id="high", priority=9, confidence=0.8)
    engine.register({"model": "gpt-4"}, {"top_p": 0.5}, id="mid", priority=5)
    for _ in range(3):
        out = engine.fix(chat(temperature=0.5))
        assert out.attributes[A.ARC_FIX_PATTERN_IDS] == ("high", "mid", "low")
        assert out.kwargs["temperature"] == 0.9 and out.kwargs["seed"] == 1 and out.kwargs["top_p"] == 0.5
        assert out.attributes[A.ARC_FIX_SKIPPED_REASON] == "conflict"
        assert out.attributes[A.ARC_FIX_CONFIDENCE] == 0.8
    _, verdicts = engine.explain(chat(temperature=0.5))
    assert [(v["id"], v["status"]) for v in verdicts] == [("high", "applied"), ("mid", "applied"),
                                                          ("low", "conflict")]
    assert verdicts[2]["lost_to_higher_priority"] == ["temperature"]


def test_equal_priority_keeps_registration_order(engine):
    engine.register({"model": "gpt-4"}, {"temperature": 0.2}, id="first")
    engine.register({"model": "gpt-4"}, {"temperature": 0.3}, id="second")
    assert engine.fix(chat(temperature=1.0)).kwargs["temperature"] == 0.2


def test_ttl_expires_without_reload(clock):
    e = PatternEngine(poll_interval=0, clock=clock)
    e.register({"model": "gpt-4"}, {"temperature": 0.7}, id="short", ttl=60)
    assert e.fix(chat(temperature=1.0)).kwargs["temperature"] == 0.7
    clock.now += 61
    out = e.fix(chat(temperature=1.0))
    assert out.kwargs is None
    assert out.attributes[A.ARC_PATTERN_MATCHED] is False
    assert out.attributes[A.ARC_FIX_SKIPPED_REASON] == "expired"


def test_expires_at_formats(clock):
    e = PatternEngine(poll_interval=0, clock=clock)
    e.register({"model": "a"}, {"seed": 1}, id="epoch", expires_at=clock.now + 10)
    e.register({"model": "b"}, {"seed": 1}, id="iso", expires_at="1970-01-12T13:46:50Z")  # 1_000_010
    clock.now += 5
    assert e.fix(chat(model="a")).kwargs and e.fix(chat(model="b")).kwargs
    clock.now += 10
    assert e.fix(chat(model="a")).kwargs is None and e.fix(chat(model="b")).kwargs is None
    with pytest.raises(PatternError, match="ISO-8601"):
        e.register({"model": "c"}, {"seed": 1}, expires_at="next tuesday")
    with pytest.raises(PatternError, match="either 'ttl' or 'expires_at'"):
        e.register({"model": "c"}, {"seed": 1}, ttl=1, expires_at=5)


@pytest.mark.parametrize("kwargs, problem", [
    ({"confidence": 1.5}, "confidence"), ({"confidence": "high"}, "confidence"),
    ({"priority": 1.5}, "priority"), ({"priority": 2**40}, "priority"), ({"ttl": 0}, "ttl"),
    ({"id": ""}, "'id'"), ({"description": 3}, "description"),
])
def test_register_rejects_bad_options(engine, kwargs, problem):
    with pytest.raises(PatternError, match=problem):
        engine.register({"model": "gpt-4"}, {"seed": 1}, **kwargs)
    assert not engine.active


def test_register_ids_are_stable_and_replace(engine):
    a = engine.register({"model": "gpt-4"}, {"seed": 1})
    b = engine.register({"model": "gpt-4"}, {"seed": 1})
    assert a == b and a.startswith("rt-") and engine.stats()["runtime_patterns"] == 1


def test_unregister_a_bundle_pattern(engine, write_bundle):
    path = write_bundle([{"id": "b1", "pattern": {"model": "gpt-4"}, "fix": {"seed": 1}}])
    assert engine.load(path) == []
    assert engine.fix(chat()).kwargs["seed"] == 1
    assert engine.unregister("b1") is True
    assert engine.fix(chat()).kwargs is None
    engine.reload()
    assert engine.fix(chat()).kwargs is None  # stays removed across reloads


def test_from_env(write_bundle, caplog):
    path = write_bundle([{"id": "b1", "pattern": {"model": "gpt-4"}, "fix": {"seed": 1}, "confidence": 0.6}])
    e = PatternEngine.from_env({"ARC_PATTERNS": path, "ARC_FIX_THRESHOLD": "0.7", "ARC_PATTERNS_POLL": "0"})
    assert e.threshold == 0.7 and e.active and e.fix(chat()).kwargs is None
    with caplog.at_level(logging.ERROR, logger="arc"):
        e = PatternEngine.from_env({"ARC_FIX_THRESHOLD": "lots", "ARC_PATTERNS_POLL": "-1"})
    assert e.threshold == 0.5 and e.poll_interval == 2.0
    assert "ARC_FIX_THRESHOLD='lots'" in caplog.text and "ARC_PATTERNS_POLL" in caplog.text
    demo = PatternEngine.from_env({"ARC_PATTERNS": "demo", "ARC_PATTERNS_POLL": "0"})
    assert demo.fix(chat(model="arc-demo", temperature=1.2)).kwargs["temperature"] == 0.7


def test_stats_report_counts_bloom_and_cache(engine):
    engine.register({"model": "gpt-4"}, {"seed": 1})
    for model in ("gpt-4", "o3", "gpt-4"):
        engine.fix(chat(model=model))
    st = engine.stats()
    assert st["lookups"] == 3 and st["matched"] == 2 and st["fixes_applied"] == 2
    assert st["patterns"] == 1 and 0.0 <= st["bloom_false_positive_ratio"] <= 1.0
    assert st["bloom_probes"] >= 2 and st["spec_cache_hits"] >= 1 and 0 < st["cache_hit_ratio"] <= 1
    json.dumps(st)  # the metrics endpoint serialises it
