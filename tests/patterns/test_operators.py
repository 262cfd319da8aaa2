"""Every condition operator, on real request views built from SDK keyword arguments."""

import pytest

from arc_agent.llm.request import from_anthropic_messages, from_openai_chat
from arc_agent.patterns import PatternEngine, PatternError


def chat(**kw):
    kw.setdefault("model", "gpt-4o")
    kw.setdefault("messages", [{"role": "user", "content": "Return the answer as JSON"}])
    return from_openai_chat(kw)


def matches(pattern, view):
    e = PatternEngine(poll_interval=0)
    e.register(pattern, {"seed": 1}, id="p")
    out = e.fix(view)
    return bool(out.attributes["arc.pattern.matched"])


@pytest.mark.parametrize("pattern, yes, no", [
    ({"model": "gpt-4o"}, chat(), chat(model="gpt-4")),
    ({"model": {"==": "gpt-4o"}, "temperature": 0.5}, chat(temperature=0.5), chat(temperature=0.6)),
    ({"temperature": {">": 0.9}}, chat(temperature=0.95), chat(temperature=0.9)),
    ({"temperature": {">=": 0.9}}, chat(temperature=0.9), chat(temperature=0.89)),
    ({"max_tokens": {"<": 100}}, chat(max_tokens=99), chat(max_tokens=100)),
    ({"max_tokens": {"<=": 100}}, chat(max_tokens=100), chat(max_tokens=101)),
    ({"temperature": {">": 0.5, "<": 1.0}}, chat(temperature=0.7), chat(temperature=1.2)),
    ({"model": {"!=": "gpt-4"}}, chat(), chat(model="gpt-4")),
    ({"model": {"in": ["gpt-4", "gpt-4o"]}}, chat(), chat(model="o3")),
    ({"model": {"not_in": ["gpt-4", "o3"]}}, chat(), chat(model="o3")),
    ({"seed": {"exists": True}}, chat(seed=3), chat()),
    ({"model": "gpt-4o", "seed": {"exists": False}}, chat(), chat(seed=3)),
    ({"system": {"contains": "pirate"}},
     chat(messages=[{"role": "system", "content": "Talk like a pirate"}, {"role": "user", "content": "hi"}]),
     chat()),
    ({"tools[].name": {"contains": "search"}},
     chat(tools=[{"type": "function", "function": {"name": "search"}}]),
     chat(tools=[{"type": "function", "function": {"name": "fetch"}}])),
    ({"prompt": {"startswith": "Return"}}, chat(), chat(messages=[{"role": "user", "content": "Please"}])),
    ({"prompt": {"regex": r"(?i)\bjson\b"}}, chat(), chat(messages=[{"role": "user", "content": "jsonify"}])),
    ({"prompt": {"similar": "return the answer as json please", "threshold": 0.8}}, chat(),
     chat(messages=[{"role": "user", "content": "Return the answer as YAML with comments"}])),
    ({"messages": {">": 1}},
     chat(messages=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                    {"role": "user", "content": "c"}]), chat()),
    ({"response_format.type": "json_object"}, chat(response_format={"type": "json_object"}),
     chat(response_format={"type": "text"})),
    ({"provider": "openai", "operation": "chat", "stream": True}, chat(stream=True), chat(stream=False)),
    ({"stop": ["END"]}, chat(stop=["END"]), chat(stop=["END", "STOP"])),
])
def test_operator(pattern, yes, no):
    assert matches(pattern, yes)
    assert not matches(pattern, no)


def test_missing_field_fails_every_operator_but_exists_false():
    for cond in ({">": 0}, {"!=": 1}, {"not_in": [1]}, {"contains": "x"}, {"regex": "."}, {"exists": True}):
        assert not matches({"top_k": cond}, chat()), cond
    assert matches({"top_k": {"exists": False}}, chat())


def test_booleans_are_not_numbers():
    assert not matches({"stream": 1}, chat(stream=True))
    assert not matches({"temperature": {">": 0}}, chat(temperature=True))
    assert matches({"temperature": 1}, chat(temperature=1.0))  # 1 == 1.0 as in JSON


def test_negative_numbers_are_distinct():  # hash(-1) == hash(-2) in CPython
    assert matches({"seed": -1}, chat(seed=-1))
    assert not matches({"seed": -1}, chat(seed=-2))


def test_anthropic_view_fields():
    view = from_anthropic_messages({"model": "claude-x", "max_tokens": 50, "system": "Be a pirate",
                                    "messages": [{"role": "user", "content": [{"type": "text", "text": "ahoy"}]}]})
    assert matches({"provider": "anthropic", "system": {"contains": "pirate"}, "prompt": "ahoy"}, view)


def test_regex_runs_in_linear_time_on_hostile_input():
    # a catastrophic pattern for a backtracking engine; RE2 answers at once
    view = chat(messages=[{"role": "user", "content": "a" * 50_000 + "!"}])
    assert not matches({"prompt": {"regex": "^(a+)+$"}}, view)


def test_similar_is_jaccard_of_words():
    from arc_agent.patterns.similarity import jaccard, words

    assert jaccard(words("Return the answer as JSON"), words("return the ANSWER as json!")) == 1.0
    assert jaccard(words("a b c d"), words("a b c e")) == pytest.approx(3 / 5)


@pytest.mark.parametrize("pattern, problem", [
    ({"temperature": {"~": 1}}, "unknown operator '~'"),
    ({"temperature": {">": "high"}}, "needs a number"),
    ({"model": {"in": "gpt-4"}}, "needs a list"),
    ({"seed": {"exists": "yes"}}, "needs true or false"),
    ({"prompt": {"regex": "(unclosed"}}, "invalid regex"),
    ({"prompt": {"regex": r"(a)\1"}}, "invalid regex"),
    ({"prompt": {"similar": ""}}, "no words"),
    ({"prompt": {"similar": 3}}, "needs a non-empty string"),
    ({"prompt": {"similar": "!!!"}}, "no words"),
    ({"prompt": {"similar": "x y", "threshold": 1.5}}, "threshold"),
    ({"prompt": {"threshold": 0.5}}, "only goes with 'similar'"),
    ({"temperature": {}}, "empty operator object"),
    ({}, "empty"),
])
def test_bad_conditions_are_rejected(pattern, problem):
    e = PatternEngine(poll_interval=0)
    with pytest.raises(PatternError, match=problem.replace("(", r"\(")):
        e.register(pattern, {"seed": 1})
    assert not e.active
