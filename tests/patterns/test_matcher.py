"""The generated per-spec matcher decides exactly as the reference ``conditions.evaluate``."""

import random

from arc_agent.llm.request import from_anthropic_messages, from_openai_chat
from arc_agent.patterns.conditions import compile_ops, evaluate, field_getter
from arc_agent.patterns.matcher import compile_matcher

OPS = [
    ("temperature", {">": 0.5}), ("temperature", {">=": 0.5, "<": 1.0}), ("max_tokens", {"<=": 100}),
    ("max_tokens", {"<": 100.5}), ("model", {"!=": "gpt-4"}), ("model", {"in": ["gpt-4", "o3"]}),
    ("model", {"not_in": ["gpt-4"]}), ("seed", {"exists": True}), ("seed", {"exists": False}),
    ("system", {"contains": "pirate"}), ("tools[].name", {"contains": "search"}),
    ("prompt", {"startswith": "Return"}), ("system", {"regex": r"(?i)pirate|ticket #\d+"}),
    ("prompt", {"regex": "^é"}), ("prompt", {"similar": "return the answer as json", "threshold": 0.5}),
    ("system", {"similar": "talk like a pirate"}), ("messages", {">": 1}), ("stream", {"!=": True}),
    ("top_p", {"in": [0.5, 1]}), ("metadata", {"!=": {"a": 1}}),
    # regexes with required literals (checked before RE2 runs): case-sensitive, (?i) on ASCII and
    # non-ASCII text (RE2 folds U+212A KELVIN SIGN to k), groups, classes RE2 reads differently
    ("system", {"regex": r"(?i)ticket #\d+ about refund"}), ("prompt", {"regex": "Return the (answer|json)"}),
    ("prompt", {"regex": r"(?i)^return.*JSON$"}), ("system", {"regex": r"[[:alpha:]]]x"}),
    ("prompt", {"regex": "(?i)kelvin"}), ("system", {"regex": "é bon"}),
]
VALUES = {"temperature": [0.1, 0.5, 0.7, 1.0, True, "hot", None], "max_tokens": [50, 100, 101, 100.5],
          "model": ["gpt-4", "o3", "m1"], "seed": [1, -2], "stream": [True, False], "top_p": [0.5, 1, 1.0],
          "metadata": [{"a": 1}, {"a": 2}],
          "tools": [[{"type": "function", "function": {"name": "search"}}], []]}
TEXTS = ["Return the answer as JSON", "Talk like a pirate!", "é bonjour", "ticket #12", "", "return json",
         "TICKET #12 About Refund", "tıcket #1 about refund", "\u212aelvin", "Kelvin", "a]x", "Return the json"]


def random_view(rng):
    kw = {k: rng.choice(v) for k, v in VALUES.items() if rng.random() < 0.6}
    kw["model"] = kw.get("model", "gpt-4o")
    messages = [{"role": "user", "content": rng.choice(TEXTS)} for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.5:
        system = rng.choice(TEXTS)
        if rng.random() < 0.5:
            return from_anthropic_messages({**kw, "system": system, "messages": messages, "max_tokens": 5})
        messages.insert(0, {"role": "system", "content": system})
    return from_openai_chat({**kw, "messages": messages})


def test_matcher_agrees_with_evaluate():
    rng = random.Random(3)
    agreed = {True: 0, False: 0}
    for _ in range(400):
        chosen = rng.sample(OPS, rng.randint(1, 3))
        tests = [t for field, ops in chosen for t in compile_ops(field, ops)]
        tests.sort(key=lambda t: t.cost)
        getters = {t.field: field_getter(t.field) for t in tests}
        match = compile_matcher(tests, getters)
        for _ in range(20):
            view = random_view(rng)
            cache: dict = {}
            want = evaluate(tests, view, getters, {})
            assert match(view, cache) is want, (chosen, view)
            assert match(view, cache) is want  # and again from the filled per-request cache
            agreed[want] += 1
    assert agreed[True] > 300 and agreed[False] > 300
    assert compile_matcher([], {}) is None
