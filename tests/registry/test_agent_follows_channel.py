"""``ARC_PATTERNS=registry:NAME[@CHANNEL]``: the real pattern engine follows a channel by hot reload,
rejects a corrupt version and keeps what it has, and comes back on rollback."""

from __future__ import annotations

import os

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine
from arc_agent.registry import channels

from .conftest import bundle_file, tamper, wait_for

VIEW = from_openai_chat({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})


def seed(engine: PatternEngine):
    kwargs = engine.fix(VIEW).kwargs
    return None if kwargs is None else kwargs["seed"]


@pytest.fixture
def follow(registry, monkeypatch):
    monkeypatch.setenv("ARC_REGISTRY", registry.root)
    engines = []

    def _follow(ref: str) -> PatternEngine:
        engine = PatternEngine.from_env({"ARC_PATTERNS": ref, "ARC_PATTERNS_POLL": "0.02",
                                         "ARC_PATTERNS_SNAPSHOT": "off"})
        engines.append(engine)
        return engine

    yield _follow
    for e in engines:
        e.stop()


def test_engine_follows_promote_rejects_corrupt_version_and_rolls_back(registry, tmp_path, follow):
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "fixes.json", 1), channel="stable")
    engine = follow("registry:fixes")
    assert seed(engine) == 1 and engine.stats()["watching"]
    assert "/versions/1/" in engine.stats()["bundles"][0]["file"]

    registry.publish("patterns", "fixes", bundle_file(tmp_path, "fixes.json", 2), channel="stable")
    assert wait_for(lambda: seed(engine) == 2)

    # version 3 is corrupted after publishing, and the pointer is moved without verification
    # (a half-synced copy of the registry): the engine refuses it and keeps version 2
    man = registry.publish("patterns", "fixes", bundle_file(tmp_path, "fixes.json", 3))
    tamper(os.path.join(registry.root, "patterns", "fixes", "versions", "3", "fixes.json"))
    pointer = os.path.join(registry.root, "patterns", "fixes", "channels", "stable.json")
    state = registry.channel("patterns", "fixes")
    channels.write(pointer, state.moved("promote", man.version, state.previous + [state.version]))
    assert wait_for(lambda: engine.stats()["last_error"] is not None)
    assert "does not match the manifest" in engine.stats()["last_error"]
    assert seed(engine) == 2

    assert registry.rollback("patterns", "fixes").version == 2
    assert wait_for(lambda: engine.stats()["last_error"] is None)
    assert seed(engine) == 2
    assert registry.rollback("patterns", "fixes").version == 1
    assert wait_for(lambda: seed(engine) == 1)


def test_engine_follows_a_named_channel_and_a_pinned_version(registry, tmp_path, follow):
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "a.json", 1), channel="stable")
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "b.yaml", 2), channel="canary")
    canary, pinned, stable = follow("registry:fixes@canary"), follow("registry:fixes@1"), follow("registry:fixes")
    assert (seed(canary), seed(pinned), seed(stable)) == (2, 1, 1)
    registry.promote("patterns", "fixes", from_channel="canary")
    assert wait_for(lambda: seed(stable) == 2)
    assert seed(pinned) == 1


def test_missing_channel_is_an_error_until_the_first_publish(registry, tmp_path, follow):
    engine = follow("registry:fixes@canary")
    assert not engine.active and "channel not set" in engine.stats()["last_error"]
    assert engine.stats()["watching"]
    registry.publish("patterns", "fixes", bundle_file(tmp_path, "a.json", 5), channel="canary")
    assert wait_for(lambda: seed(engine) == 5)
    assert engine.stats()["last_error"] is None


def test_bad_reference_is_a_bundle_error(follow):
    engine = follow("registry:../etc")
    assert not engine.active and "bad artifact name" in engine.stats()["last_error"]
