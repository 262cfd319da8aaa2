"""Property-based fuzzing of the bundle loader (issue 12, standing defence): for any JSON or YAML
document (deep nesting, aliases, odd types, huge numbers, lone surrogate escapes, damaged bytes)
the loader returns a pattern set or raises ``BundleErrors`` naming the file: never another
exception, and never slowly (each example has a deadline; the whole run a fixed example count)."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arc_agent.patterns.bundle import BundleErrors, load_layer

FUZZ = settings(max_examples=int(os.environ.get("ARC_FUZZ_EXAMPLES", "100")), deadline=timedelta(seconds=10),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], derandomize=True)
KEYS = ["id", "pattern", "fix", "confidence", "priority", "expires_at", "description", "model", "temperature",
        "seed", "in", ">", "regex", "similar", "max", "set", "prepend_system", "exists", "name", "version"]

text = st.one_of(st.sampled_from(KEYS + ["gpt-4", "", "é", "\ud83d", "(a+)+$", "2099-01-01T00:00:00Z"]),
                 st.text(max_size=12))
numbers = st.one_of(st.integers(), st.integers(min_value=-2**70, max_value=2**70), st.just(10**400),
                    st.floats(allow_nan=True, allow_infinity=True))
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(text, inner, max_size=4)), max_leaves=25)
records = st.fixed_dictionaries({"pattern": values, "fix": values},
                                optional={k: values for k in ("id", "confidence", "priority", "expires_at",
                                                              "description")})
plausible = st.builds(lambda recs, name: {"name": name, "patterns": recs}, st.lists(records, max_size=6),
                      st.one_of(st.none(), text))
documents = st.one_of(plausible, values, st.dictionaries(text, values, max_size=3))


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory(prefix="arc-fuzz-") as d:
        yield d


def check(folder: str, name: str, data: bytes) -> None:
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(data)
    try:
        layer, infos = load_layer([path])
    except BundleErrors as exc:
        assert exc.errors and all(e.file == path for e in exc.errors), exc
        assert path in str(exc)
    else:
        assert layer.n == sum(i.count for i in infos)


def _nested(depth: int, kind: str) -> str:
    return "[" * depth + "]" * depth if kind == "list" else '{"a":' * depth + "1" + "}" * depth


def _json_bytes(doc, ensure_ascii: bool) -> bytes:
    return json.dumps(doc, ensure_ascii=ensure_ascii, allow_nan=True).encode("utf-8", "surrogatepass")


@FUZZ
@given(doc=documents, ensure_ascii=st.booleans())
def test_any_json_document(folder, doc, ensure_ascii):
    check(folder, "fuzz.json", _json_bytes(doc, ensure_ascii))


@FUZZ
@given(doc=plausible, depth=st.integers(1, 200_000), kind=st.sampled_from(["list", "dict"]),
       where=st.sampled_from(["pattern", "fix", "top"]))
def test_json_nested_anywhere(folder, doc, depth, kind, where):
    deep = _nested(depth, kind)
    if where == "top":
        data = ('{"patterns": ' + deep + "}").encode()
    else:
        pattern, fix = ('{"model": ' + deep + "}", '{"seed": 1}') if where == "pattern" else \
            ('{"model": "m"}', '{"response_format": {"set": ' + deep + "}}")
        rec = '{"id": "x", "pattern": ' + pattern + ', "fix": ' + fix + "}"
        data = ('{"patterns": [' + rec + "]}").encode()
    check(folder, "deep.json", data)


@FUZZ
@given(doc=documents, cut=st.integers(0, 400), junk=st.binary(max_size=8))
def test_damaged_json_and_yaml_bytes(folder, doc, cut, junk):
    data = _json_bytes(doc, True)
    damaged = data[:cut] + junk + data[cut + len(junk):]
    check(folder, "damaged.json", damaged)
    check(folder, "damaged.yaml", damaged)


@FUZZ
@given(doc=documents)
def test_any_yaml_document(folder, doc):
    import yaml

    try:
        data = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")
    except (yaml.YAMLError, ValueError):  # a value PyYAML itself cannot write
        return
    check(folder, "fuzz.yaml", data)


@FUZZ
@given(levels=st.integers(1, 12), width=st.integers(1, 12), depth=st.integers(0, 400),
       merge=st.booleans(), recursive=st.booleans())
def test_yaml_aliases_and_nesting(folder, levels, width, depth, merge, recursive):
    lines = ["a0: &a0 {model: x}"]
    for i in range(1, levels + 1):
        if merge:
            refs = ", ".join(f"{{<<: *a{i - 1}, k{j}: {j}}}" for j in range(width))
        else:
            refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"a{i}: &a{i} [{refs}]")
    target = f"*a{levels}" if not recursive else "&r [*r]"
    lines.append(f"patterns: [{{id: p, pattern: {{model: {{in: {target}}}}}, fix: {{seed: 1}}}}]")
    lines.append("deep: " + "[" * depth + "]" * depth)
    check(folder, "alias.yaml", ("\n".join(lines) + "\n").encode())
