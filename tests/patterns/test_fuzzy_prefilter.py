"""The fuzzy stage's pre-filter: a request whose prompt cannot reach any fuzzy pattern's threshold
(too few characters for enough words, too few or too many words, too few words that any pattern
has) skips the stage before splitting the text or before ranking its words; one that can match
still does."""

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns.conditions import words_key
from arc_agent.patterns.fuzzy import FuzzyIndex
from arc_agent.patterns.index import Counters

TEXT = "Return the answer as JSON please"  # 6 words: at threshold 0.8 a prompt needs 5 to 7 words


def chat(prompt):
    return from_openai_chat({"model": "m", "messages": [{"role": "user", "content": prompt}]})


def lookup(engine, prompt):
    """(matched pattern ids, per-request cache) of one lookup in the registered layer."""
    layer = engine._snap.layers[0]
    cache: dict = {}
    hits = layer.match(chat(prompt), cache, Counters(), frozenset())
    return [layer.ids.get(i) for i in hits], cache


def test_prefilter_keeps_matches_and_skips_hopeless_prompts(engine, monkeypatch):
    engine.register({"prompt": {"similar": TEXT, "threshold": 0.8}}, {"temperature": 0}, id="json")
    engine.register({"model": "m", "temperature": {">": 5}}, {"temperature": 1}, id="other")
    queried = []
    query = FuzzyIndex.query
    monkeypatch.setattr(FuzzyIndex, "query", lambda self, ws: queried.append(ws) or query(self, ws))
    key = words_key("prompt")

    hits, cache = lookup(engine, "return the answer as json, please!")  # can match: it does
    assert hits == ["json"] and key in cache and len(queried) == 1
    assert engine.fix(chat("Return the answer as JSON please")).attributes["arc.fix.pattern_ids"] == ("json",)
    hits, _ = lookup(engine, "Return the answer as JSON")  # 5 of 6 words: J = 0.83, still a match
    assert hits == ["json"] and len(queried) == 3

    queried.clear()
    hits, cache = lookup(engine, "as JSON")  # 7 characters cannot hold 5 words: not even split
    assert hits == [] and key not in cache and not queried
    hits, cache = lookup(engine, "answer as JSON please")  # split: 4 words < 5, not ranked
    assert hits == [] and cache[key] == {"answer", "as", "json", "please"} and not queried
    hits, cache = lookup(engine, "return the answer as json please in french with no comments")  # 11 words > 7
    assert hits == [] and key in cache and not queried
    hits, cache = lookup(engine, "what is the weather in paris")  # 6 words, only "the" known
    assert hits == [] and key in cache and not queried
    hits, cache = lookup(engine, "réponds: as JSON")  # non-ASCII: the length check does not apply
    assert hits == [] and key in cache and not queried
