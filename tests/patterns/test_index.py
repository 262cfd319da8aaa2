"""The index finds exactly what evaluating every pattern would find (Bloom stages, shape keys,
existence anchors and prefix-filtered fuzzy matching lose nothing and add nothing)."""

import json
import random

from arc_agent.llm.request import MISSING, from_openai_chat
from arc_agent.patterns import PatternEngine
from arc_agent.patterns.conditions import compile_ops, evaluate, field_getter, split
from arc_agent.patterns.keys import freeze

MODELS = ["gpt-4", "gpt-4o", "o3", "m1", "m2", "m3"]
WORDS = ("return answer json the a of list explain summarise report table csv yaml customer order "
         "ticket refund invoice please format strictly brief detailed").split()


def naive(pattern):
    """A matcher that evaluates every condition of ``pattern`` directly (no index)."""
    checks = []
    for field, cond in pattern.items():
        has_eq, value, rest = split(field, cond)
        checks.append((field_getter(field), has_eq and freeze(value), has_eq,
                       rest and compile_ops(field, rest), {field: field_getter(field)}))

    def match(view):
        for getter, frozen, has_eq, tests, getters in checks:
            got = getter(view)
            if has_eq and (got is MISSING or freeze(got) != frozen):
                return False
            if tests and not evaluate(tests, view, getters, {}):
                return False
        return True
    return match


def random_text(rng, n=None):
    return " ".join(rng.choice(WORDS) for _ in range(n or rng.randint(3, 9)))


def random_pattern(rng):
    kind = rng.randrange(7)
    if kind == 0:
        return {"model": rng.choice(MODELS)}
    if kind == 1:
        return {"model": rng.choice(MODELS), "max_tokens": rng.choice([100, 200, 300])}
    if kind == 2:
        return {"model": rng.choice(MODELS), "temperature": {">": rng.choice([0.2, 0.5, 0.8])}}
    if kind == 3:
        return {"temperature": {"<": rng.choice([0.3, 0.6])}, "seed": {"exists": rng.random() < 0.5}}
    if kind == 4:
        return {"prompt": {"similar": random_text(rng), "threshold": rng.choice([0.5, 0.7, 0.9, 1.0])}}
    if kind == 5:
        return {"user": rng.choice(["u1", "u2"]), "prompt": {"similar": random_text(rng), "threshold": 0.6}}
    # longer than the fuzzy index's verification width: verified through the full conditions
    return {"prompt": {"similar": " ".join(f"w{i}" for i in range(40)) + " " + random_text(rng),
                       "threshold": rng.choice([0.1, 0.3])}}


def random_request(rng):
    kw = {"model": rng.choice(MODELS), "messages": [{"role": "user", "content": random_text(rng)}]}
    for name, values in (("max_tokens", [100, 200, 300, 400]), ("temperature", [0.1, 0.4, 0.7, 0.9]),
                         ("seed", [1, 2]), ("user", ["u1", "u2", "u3"])):
        if rng.random() < 0.6:
            kw[name] = rng.choice(values)
    return kw


def test_index_agrees_with_evaluating_every_pattern(tmp_path):
    rng = random.Random(11)
    patterns = [random_pattern(rng) for _ in range(3000)]
    records = [{"id": f"p{i}", "pattern": p, "fix": {"stop": ["x"]}} for i, p in enumerate(patterns)]
    path = tmp_path / "mix.json"
    path.write_text(json.dumps({"version": 1, "patterns": records}))
    engine = PatternEngine([str(path)], poll_interval=0)
    matchers = [naive(p) for p in patterns]
    total = 0
    for _ in range(300):
        view = from_openai_chat(random_request(rng))
        _, verdicts = engine.explain(view)
        got = sorted(v["id"] for v in verdicts)
        want = sorted(f"p{i}" for i, m in enumerate(matchers) if m(view))
        assert got == want, view
        assert engine.fix(view).attributes["arc.pattern.matched"] is bool(want)
        total += len(want)
    assert total > 300  # the requests do match things
    assert engine.stats()["bloom_probes"] > 0


def test_equality_shapes_match_only_with_every_field_and_value(tmp_path):
    """A shape's patterns match when the request has each of its fields with the pattern's values
    (a None parameter and an ``extra_body`` parameter count as present); a request lacking a field
    of every shape is decided without a key probe (what a presence pre-check must keep)."""
    records = [
        {"id": "pair", "pattern": {"model": "m1", "max_tokens": 300}, "fix": {"max_tokens": 100}},
        {"id": "user-none", "pattern": {"model": "m2", "user": None}, "fix": {"stop": ["x"]}},
        {"id": "extra", "pattern": {"top_k": 5}, "fix": {"stop": ["y"]}},
    ]
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps({"version": 1, "patterns": records}))
    engine = PatternEngine([str(path)], poll_interval=0)

    def ids(**kw):
        kw.setdefault("messages", [{"role": "user", "content": "hi"}])
        return sorted(v["id"] for v in engine.explain(from_openai_chat(kw))[1])

    assert ids(model="m1", max_tokens=300) == ["pair"]
    assert ids(model="m2", user=None) == ["user-none"]  # a None parameter is present
    assert ids(model="m1", extra_body={"top_k": 5}) == ["extra"]  # via extra_body
    probes = engine.stats()["bloom_probes"]
    assert ids(model="m1", max_tokens=200) == []  # every field there, another value
    assert ids(model="m1") == ids(model="m2") == ids(max_tokens=300) == []  # a field of each shape missing
    assert engine.stats()["bloom_probes"] == probes  # nothing to probe: no shape had all its values
    outcome = engine.fix(from_openai_chat({"model": "m1", "messages": []}))
    assert outcome.kwargs is None and outcome.attributes["arc.pattern.matched"] is False
    assert engine.fix(from_openai_chat({"model": "m1", "max_tokens": 300, "messages": []})).kwargs["max_tokens"] == 100
