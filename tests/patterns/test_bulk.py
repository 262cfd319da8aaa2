"""Bulk loading (msgspec decoding, records stored by signature column by column) gives exactly
the set the per-record path gives (YAML, or JSON without msgspec), and reports the same errors."""

import json
import random

import yaml

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine, fastjson, index

from .test_index import naive, random_pattern, random_request


def mixed_records(n=2500, seed=3):
    """The random mix plus signatures whose columns are not plain: a field that is a scalar in one
    record and an operator object, a list, a negative number, a boolean or null in others."""
    rng = random.Random(seed)
    patterns = [random_pattern(rng) for _ in range(n)]
    odd = [{"model": {"in": ["gpt-4", "o3"]}}, {"model": -1}, {"model": True}, {"model": None},
           {"model": {"==": "m1", "!=": "m2"}}, {"max_tokens": 200, "model": "m2"},
           {"temperature": {">": 0.5}, "model": "m3"}, {"seed": 2.0}, {"seed": 1},
           {"prompt": {"similar": "return the answer", "threshold": 1}}, {"prompt": {"similar": "json please"}},
           {"user": "u1", "prompt": {"regex": "^(?i)explain"}}]
    for p in odd:
        patterns.insert(rng.randrange(len(patterns)), p)
        patterns.append(dict(p))
    fixes = [{"stop": ["x"]}, {"temperature": {"max": 0.3}}, {"append_system": "Be brief."}]
    return [{"id": f"p{i}", "pattern": p, "fix": fixes[i % 3], "priority": i % 4,
             **({"confidence": 0.3} if i % 9 == 0 else {})} for i, p in enumerate(patterns)]


def verdicts(engine, views):
    return [(sorted((t["id"], t["status"]) for t in engine.explain(v)[1]), engine.fix(v).kwargs) for v in views]


def test_bulk_and_per_record_loading_agree(tmp_path):
    records = mixed_records()
    as_json = tmp_path / "b.json"
    as_json.write_text(json.dumps({"version": 1, "patterns": records}))
    as_yaml = tmp_path / "b.yaml"
    as_yaml.write_text(yaml.safe_dump({"version": 1, "patterns": records}))
    assert fastjson.decode(as_json.read_bytes()) is not None  # the bulk path is what is tested
    bulk = PatternEngine([str(as_json)], poll_interval=0)
    per_record = PatternEngine([str(as_yaml)], poll_interval=0)
    rng = random.Random(4)
    views = [from_openai_chat(random_request(rng)) for _ in range(300)]
    views += [from_openai_chat({"model": m, "max_tokens": 200, "seed": s, "temperature": 0.9, "user": "u1",
                                "messages": [{"role": "user", "content": "Explain: return the answer json please"}]})
              for m in ("gpt-4", "m1", "m2", "m3") for s in (1, 2)]
    got = verdicts(bulk, views)
    assert got == verdicts(per_record, views)
    matchers = [(r["id"], naive(r["pattern"])) for r in records]
    for view, (trace, _) in zip(views, got):
        assert [i for i, _ in trace] == sorted(i for i, m in matchers if m(view))
    assert sum(bool(t) for t, _ in got) > 100


def test_bulk_errors_are_reported_in_file_order(write_bundle, engine):
    good = {"pattern": {"model": "gpt-4"}, "fix": {"seed": 1}}
    records = [good, {"pattern": {"model": "m"}, "fix": {"stream": True}},  # bad spec, shared below
               {"pattern": {"temperature": {"~": 1}}, "fix": {"seed": 1}},
               {"pattern": {"model": "n"}, "fix": {"stream": True}},
               {"pattern": {"prompt": {"similar": "?!"}}, "fix": {"seed": 1}}]
    errors = engine.load(write_bundle([{"id": f"r{i}", **r} for i, r in enumerate(records)]))
    assert [e.index for e in errors] == [1, 2, 4]
    assert "cannot be changed" in errors[0].problem and "unknown operator" in errors[1].problem
    assert "no words" in errors[2].problem and errors[2].pattern_id == "r4"
    assert not engine.active


def test_without_msgspec_json_loads_the_same(tmp_path, monkeypatch):
    records = mixed_records(n=600)
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"version": 1, "patterns": records}))
    with_msgspec = PatternEngine([str(path)], poll_interval=0)
    monkeypatch.setattr(fastjson, "msgspec", None)
    assert fastjson.decode(path.read_bytes()) is None
    without = PatternEngine([str(path)], poll_interval=0)
    rng = random.Random(8)
    views = [from_openai_chat(random_request(rng)) for _ in range(200)]
    assert verdicts(with_msgspec, views) == verdicts(without, views)


def test_a_reload_decodes_in_chunks_to_the_same_set(tmp_path, monkeypatch):
    """A hot reload decodes a few records per call and hashes a few values per step (the GIL is
    released in between)."""
    monkeypatch.setattr(fastjson, "CHUNK", 7)
    monkeypatch.setattr(index, "SLICE", 7)
    records = mixed_records(n=300)
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"version": 1, "patterns": records}))
    assert len(fastjson.decode(path.read_bytes(), chunked=True).ids) == len(records)
    loaded = PatternEngine([str(path)], poll_interval=0)
    reloaded = PatternEngine([str(path)], poll_interval=0)
    assert reloaded.reload() == []
    rng = random.Random(5)
    views = [from_openai_chat(random_request(rng)) for _ in range(150)]
    assert verdicts(loaded, views) == verdicts(reloaded, views)
