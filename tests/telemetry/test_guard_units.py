"""The breaker's and sampler's decisions on a controlled clock (the end-to-end tests cover real timing)."""

import logging
import random
from collections import Counter

from arc_agent import settings
from arc_agent.state import RuntimeState
from arc_agent.telemetry.breaker import MIN_SAMPLES, CircuitBreaker
from arc_agent.telemetry.sampling import DynamicSampler


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def breaker(clock, queue=lambda: 0, max_ms=5.0, max_queue=0, cooldown=1.0):
    rt = RuntimeState()
    return CircuitBreaker(max_ms, max_queue, cooldown, queue, clock=clock, runtime=rt), rt


def feed(b, clock, ns, n, step=0.01):
    for _ in range(n):
        clock.t += step
        b.record(ns)


def test_p99_opens_only_with_enough_samples_and_closes_after_cooldown():
    clock = Clock()
    b, rt = breaker(clock)
    feed(b, clock, 9_000_000, MIN_SAMPLES - 1)  # slow, but too few samples to judge
    assert not rt.breaker_open
    feed(b, clock, 9_000_000, 5)
    assert rt.breaker_open and b.opens == 1
    feed(b, clock, 1_000, 50)  # fast while open: stays open until the cooldown passed
    assert rt.breaker_open
    clock.t += 1.0
    b.record(1_000)
    assert not rt.breaker_open
    feed(b, clock, 1_000, 300)  # fresh measurement after closing: healthy stays closed
    assert not rt.breaker_open and b.opens == 1


def test_one_slow_call_in_a_hundred_is_not_p99():
    clock = Clock()
    b, rt = breaker(clock)
    for i in range(1000):
        clock.t += 0.01
        b.record(50_000_000 if i % 200 == 0 else 10_000)  # 0.5 % slow
    assert not rt.breaker_open


def test_reopening_right_after_closing_doubles_the_cooldown():
    clock = Clock()
    b, rt = breaker(clock)
    feed(b, clock, 9_000_000, MIN_SAMPLES + 5)
    assert b.cooldown_s == 1.0
    clock.t += 1.0
    b.record(1)
    assert not rt.breaker_open
    feed(b, clock, 9_000_000, MIN_SAMPLES + 20)  # still slow: back off
    assert rt.breaker_open and b.cooldown_s == 2.0


def test_queue_opens_and_closes_with_hysteresis():
    clock = Clock()
    depth = [0]
    b, rt = breaker(clock, queue=lambda: depth[0], max_ms=0, max_queue=100, cooldown=0.5)
    depth[0] = 101
    feed(b, clock, 1, 1, step=0.2)
    assert rt.breaker_open
    depth[0] = 60  # below the limit but above half of it: stays open
    feed(b, clock, 1, 5, step=0.2)
    assert rt.breaker_open
    depth[0] = 50
    feed(b, clock, 1, 1, step=0.2)
    assert not rt.breaker_open


def test_sampler_follows_the_call_rate():
    clock = Clock()
    s = DynamicSampler(max_qps=100, rate=0.1, window_s=0.5, clock=clock, rand=random.Random(7).random)
    for _ in range(40):  # 40 calls/s: below the limit, all kept
        clock.t += 0.025
        assert s()
    for _ in range(600):  # 1,000 calls/s for longer than a window
        clock.t += 0.001
        s()
    assert s.active and s.qps > 100
    kept = sum(s() for _ in range(20_000))  # the clock stands still: one window, sampling throughout
    assert 1_800 <= kept <= 2_200  # Binomial(20,000, 0.1): mean 2,000, sd 42
    clock.t += 2.0  # quiet again: the window holding the burst's tail closes, the next one is calm
    s()
    clock.t += 1.0
    assert s() and not s.active and s.left == 0


def test_sampler_gaps_are_geometric():
    """Kept calls drawn by their gaps have the per-call law: P(gap = k) = (1 - rate)^k * rate."""
    s = DynamicSampler(max_qps=1, rate=0.25, rand=random.Random(11).random)
    gaps = Counter(s._gap() for _ in range(40_000))
    for k in range(4):
        assert abs(gaps[k] / 40_000 - 0.75 ** k * 0.25) < 0.01, (k, gaps[k])
    assert DynamicSampler(max_qps=1, rate=1.0)._gap() == 0
    assert DynamicSampler(max_qps=1, rate=0.0)._gap() >= 2**62


def test_settings_name_the_bad_value_and_fall_back(caplog):
    with caplog.at_level(logging.ERROR, logger="arc"):
        assert settings.value("ARC_SAMPLE_RATE", {"ARC_SAMPLE_RATE": "often"}) == 0.1
        assert settings.value("ARC_BREAKER_QUEUE", {"ARC_BREAKER_QUEUE": "1e3"}) == 50_000
        assert settings.value("ARC_METRICS_PORT", {"ARC_METRICS_PORT": " 9464 "}) == 9464
        assert settings.value("ARC_METRICS_PORT", {}) is None
    assert "ARC_SAMPLE_RATE='often' is not a number; using the default (0.1)" in caplog.text
    assert "ARC_BREAKER_QUEUE='1e3' is not an integer" in caplog.text


def test_fast_skip_takes_only_a_positive_gap(monkeypatch):
    """A call inside a gap takes the fast skip (the method itself, no call path); two threads may
    both take the last call of a gap (unlocked ``left -= 1``), and the negative ``left`` that
    leaves must end the run (the call goes to the full call path), never skip every later call."""
    from arc_agent import state
    from arc_agent.llm import call

    full_path = []
    monkeypatch.setattr(call, "invoke_sync", lambda spec, original, *rest: full_path.append(spec) or "full")
    spec = call.CallSpec("openai", "chat", build_view=lambda kw: None, response_attributes=lambda r: {})
    method = call.sync_method(spec, lambda self, **kwargs: "skipped")
    s = DynamicSampler(max_qps=1, rate=0.5)
    s.active, s.window_end = True, float("inf")
    monkeypatch.setattr(state.RUNTIME, "skipper", s)
    s.left = s.drawn = 2  # as a kept call leaves it
    assert method(object(), model="m") == "skipped" and s.left == 1 and not full_path
    assert s.status()["considered"] == 1 and s.sampled_out() == 1
    s.left = -1
    assert method(object(), model="m") == "full" and full_path == [spec]
