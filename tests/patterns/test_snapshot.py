"""Load snapshots: a restored set matches exactly what the bundle gives; a stale, corrupt or
unwritable snapshot is ignored (logged) and the bundle decides; a bad bundle never loses the old set."""

import json
import logging
import os
import random

import pytest

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine
from arc_agent.patterns.snapshot import MAGIC, SnapshotPolicy

from .test_index import random_pattern, random_request

FIX = {"seed": 7}


def write_mix(path, n=1500, seed=5, fix=FIX):
    rng = random.Random(seed)
    patterns = [random_pattern(rng) for _ in range(n)]
    # a few of each remaining kind: regex, non-ASCII text, negative numbers, booleans, objects
    patterns += [{"user": "u1", "system": {"regex": r"(?i)ticket #\d+"}},
                 {"prompt": {"similar": "Réponds en JSON s'il te plaît", "threshold": 0.6}},
                 {"seed": -3}, {"stream": False, "model": "m1"}, {"metadata": {"==": {"team": "a"}}},
                 {"model": "é-model", "max_tokens": {"exists": True}}, {"messages": {">=": 3}}]
    records = [{"id": f"p{i}-ü" if i % 100 == 0 else f"p{i}", "pattern": p, "fix": fix,
                "priority": i % 5, "confidence": 0.4 if i % 7 == 0 else 0.9,
                **({"expires_at": "2099-01-01T00:00:00Z"} if i % 11 == 0 else {})}
               for i, p in enumerate(patterns)]
    path.write_text(json.dumps({"version": 2, "name": "mix", "patterns": records}))
    return str(path)


def requests(n=250, seed=9):
    rng = random.Random(seed)
    views = [from_openai_chat(random_request(rng)) for _ in range(n)]
    views += [from_openai_chat({"model": "m1", "user": "u1", "stream": False, "seed": -3,
                                "metadata": {"team": "a"}, "max_tokens": 5,
                                "messages": [{"role": "system", "content": "TICKET #42"},
                                             {"role": "user", "content": "réponds en json s'il te plaît"},
                                             {"role": "user", "content": "Réponds en JSON, s'il te plaît!"}]}),
              from_openai_chat({"model": "é-model", "max_tokens": 9, "messages": []})]
    return views


def verdicts(engine, views):
    out = []
    for v in views:
        outcome, trace = engine.explain(v)
        out.append((sorted((t["id"], t["status"]) for t in trace), outcome.kwargs, outcome.attributes.get(
            "arc.fix.pattern_ids")))
    return out


def policy(tmp_path):
    return SnapshotPolicy(directory=str(tmp_path / "snapshots"), min_patterns=1)


def snapshots(tmp_path):
    d = tmp_path / "snapshots"
    return sorted(d.glob("*.arc-snapshot")) if d.exists() else []


def test_a_restored_set_matches_the_bundle_exactly(tmp_path, caplog):
    bundle = write_mix(tmp_path / "mix.json")
    cold = PatternEngine([bundle], poll_interval=0, snapshot=policy(tmp_path))
    (snap,) = snapshots(tmp_path)
    with caplog.at_level(logging.INFO, logger="arc"):
        warm = PatternEngine([bundle], poll_interval=0, snapshot=policy(tmp_path))
    assert f"from snapshot {snap}" in caplog.text
    views = requests()
    want = verdicts(cold, views)
    assert verdicts(warm, views) == want
    assert sum(len(v[0]) for v in want) > 250  # the requests do match things
    assert any(ids and "p1501" in ids for _, _, ids in want)  # the regex pattern
    for key in ("patterns", "bundle_version", "specs", "shapes", "largest_key_bucket", "bundles"):
        assert warm.stats()[key] == cold.stats()[key], key
    # ids are found (unregister) and replaced (register) on the restored set too
    assert warm.unregister("p100-ü") and not warm.unregister("p100-ü")
    warm.register({"model": "m1"}, {"seed": 1}, id="p0-ü")
    assert {"p100-ü", "p0-ü"} & {t["id"] for t in warm.explain(views[0])[1]} <= {"p0-ü"}


def test_snapshot_only_for_big_sets_and_not_when_off(tmp_path):
    bundle = write_mix(tmp_path / "mix.json", n=50)
    PatternEngine([bundle], poll_interval=0, snapshot=SnapshotPolicy(directory=str(tmp_path / "snapshots")))
    assert snapshots(tmp_path) == []  # below the default minimum: small sets load fast anyway
    off = SnapshotPolicy.from_env({"ARC_PATTERNS_SNAPSHOT": "off"})
    assert not off.enabled
    PatternEngine([bundle], poll_interval=0, snapshot=off)
    assert snapshots(tmp_path) == [] and not any(p.name.endswith(".arc-snapshot") for p in tmp_path.iterdir())
    there = SnapshotPolicy.from_env({"ARC_PATTERNS_SNAPSHOT": str(tmp_path / "elsewhere")})
    assert there.enabled and there.locations([bundle])[0].startswith(str(tmp_path / "elsewhere"))
    beside = SnapshotPolicy.from_env({})
    assert os.path.dirname(beside.locations([bundle])[0]) == str(tmp_path)


def test_a_stale_snapshot_is_ignored_and_replaced(tmp_path, caplog):
    bundle = write_mix(tmp_path / "mix.json")
    PatternEngine([bundle], poll_interval=0, snapshot=policy(tmp_path))
    (snap,) = snapshots(tmp_path)
    before = snap.read_bytes()
    write_mix(tmp_path / "mix.json", fix={"seed": 8})  # same path, new content
    with caplog.at_level(logging.INFO, logger="arc"):
        engine = PatternEngine([bundle], poll_interval=0, snapshot=policy(tmp_path))
    assert "is stale" in caplog.text
    hit = next(o for o, _ in map(engine.explain, requests()) if o.kwargs)
    assert hit.kwargs["seed"] == 8
    assert snap.read_bytes() != before  # rewritten for the new content
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="arc"):
        again = PatternEngine([bundle], poll_interval=0, snapshot=policy(tmp_path))
    assert "from snapshot" in caplog.text
    assert verdicts(again, requests(60)) == verdicts(engine, requests(60))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1:]


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "garbage", "bad header", "empty"])
def test_a_corrupt_snapshot_is_ignored_with_a_logged_message(tmp_path, caplog, damage):
    bundle = write_mix(tmp_path / "mix.json", n=400)
    cold = PatternEngine([bundle], poll_interval=0, snapshot=policy(tmp_path))
    (snap,) = snapshots(tmp_path)
    good = snap.read_bytes()
    snap.write_bytes({"truncated": good[: len(good) * 2 // 3],
                      "flipped byte": _flip(good, len(good) - 100),
                      "garbage": os.urandom(5000),
                      "bad header": MAGIC + good[len(MAGIC):len(MAGIC) + 4] + b"{not json" + good[len(MAGIC) + 13:],
                      "empty": b""}[damage])
    with caplog.at_level(logging.WARNING, logger="arc"):
        engine = PatternEngine([bundle], poll_interval=0, snapshot=policy(tmp_path))
    assert f"ignoring unreadable pattern snapshot {snap}" in caplog.text
    views = requests(80)
    assert engine.last_error is None and verdicts(engine, views) == verdicts(cold, views)
    assert snap.read_bytes() == good  # rewritten from the bundle


def test_a_bad_bundle_keeps_the_old_set_whatever_the_snapshots(tmp_path):
    bundle = write_mix(tmp_path / "mix.json")
    engine = PatternEngine([bundle], poll_interval=0, snapshot=policy(tmp_path))
    views = requests(60)
    want = verdicts(engine, views)
    (snap,) = snapshots(tmp_path)
    good = snap.read_bytes()
    doc = json.loads((tmp_path / "mix.json").read_text())
    doc["patterns"][3]["pattern"] = {"model": {"approx": "gpt"}}
    (tmp_path / "mix.json").write_text(json.dumps(doc))
    errors = engine.reload()
    assert len(errors) == 1 and "pattern #3 (id 'p3')" in str(errors[0]) and "unknown operator 'approx'" in str(
        errors[0]) and str(errors[0]).startswith(bundle)
    assert verdicts(engine, views) == want and snap.read_bytes() == good
    # a fresh process gets the error too: the old snapshot is for other content
    fresh = PatternEngine(poll_interval=0, snapshot=policy(tmp_path))
    assert fresh.load([bundle]) and fresh.stats()["patterns"] == 0


def test_an_unwritable_snapshot_location_never_fails_a_load(tmp_path, caplog):
    bundle = write_mix(tmp_path / "mix.json", n=300)
    (tmp_path / "a-file").write_text("x")
    blocked = SnapshotPolicy(directory=str(tmp_path / "a-file" / "sub"), min_patterns=1)
    with caplog.at_level(logging.INFO, logger="arc"):
        engine = PatternEngine([bundle], poll_interval=0, snapshot=blocked)
    assert "cannot write pattern snapshot" in caplog.text
    assert engine.last_error is None and engine.stats()["patterns"] == 307
    assert not any(p.name.endswith((".arc-snapshot", ".tmp")) for p in tmp_path.rglob("*"))
