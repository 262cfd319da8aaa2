"""Bundle loading: every malformed case is rejected with file, pattern id/index and problem, and
the previously loaded set stays active; the CLI reports the same."""

import json
import os
import subprocess
import sys

import pytest

from arc_agent.llm.request import from_openai_chat

GOOD = {"id": "good", "pattern": {"model": "gpt-4"}, "fix": {"seed": 1}}


def chat(model="gpt-4"):
    return from_openai_chat({"model": model, "messages": [{"role": "user", "content": "hi"}]})


def arc(*args, **env):
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "arc_agent.cli", *args], capture_output=True, text=True,
                          timeout=60, env=full_env)


def test_json_and_yaml_files_and_directories(tmp_path, engine):
    d = tmp_path / "bundles"
    d.mkdir()
    (d / "a.json").write_text(json.dumps({"version": 2, "name": "alpha", "patterns": [GOOD]}))
    (d / "b.yaml").write_text("version: 7\nname: beta\npatterns:\n"
                              "  - {id: y1, pattern: {model: o3}, fix: {seed: 2}, expires_at: 2999-01-01}\n")
    (d / "notes.txt").write_text("ignored")
    assert engine.load(str(d)) == []
    assert engine.fix(chat()).kwargs["seed"] == 1 and engine.fix(chat("o3")).kwargs["seed"] == 2
    assert engine.stats()["bundle_version"] == "alpha@2,beta@7"
    assert engine.fix(chat()).attributes["arc.patterns.bundle_version"] == "alpha@2,beta@7"


def test_records_without_ids_get_stable_ones(write_bundle, engine):
    engine.load(write_bundle([{"pattern": {"model": "gpt-4"}, "fix": {"seed": 1}}], bundle_name="n"))
    assert engine.fix(chat()).attributes["arc.fix.pattern_ids"] == ("n#0",)


BAD_RECORDS = [
    ({"id": "x", "pattern": {"temperature": {"~=": 1}}, "fix": {"seed": 1}}, "unknown operator '~='"),
    ({"id": "x", "pattern": {"temperature": {">": "hot"}}, "fix": {"seed": 1}}, "needs a number"),
    ({"id": "x", "pattern": {"prompt": {"regex": "([a-z]"}}, "fix": {"seed": 1}}, "invalid regex"),
    ({"id": "x", "pattern": "model == gpt-4", "fix": {"seed": 1}}, "'pattern' must be an object"),
    ({"id": "x", "pattern": {"model": "gpt-4"}, "fix": {"seed": 1}, "confidence": 2}, "'confidence'"),
    ({"id": "x", "pattern": {"model": "gpt-4"}, "fix": {"seed": 1}, "priority": "high"}, "'priority'"),
    ({"id": "x", "pattern": {"model": "gpt-4"}, "fix": {"seed": 1}, "expires_at": "soon"}, "ISO-8601"),
    ({"id": "x", "pattern": {"model": "gpt-4"}, "fix": {"stream": True}}, "cannot be changed"),
    ({"id": "x", "pattern": {"model": "gpt-4"}}, "missing 'fix'"),
    ({"id": "x", "pattern": {"model": "gpt-4"}, "fix": {"seed": 1}, "colour": "red"}, "unknown key 'colour'"),
    ({"id": 7, "pattern": {"model": "gpt-4"}, "fix": {"seed": 1}}, "'id' must be a non-empty string"),
    ("just a string", "each pattern must be an object"),
]


@pytest.mark.parametrize("record, problem", BAD_RECORDS)
def test_bad_record_is_named_and_old_set_stays(write_bundle, engine, record, problem):
    assert engine.load(write_bundle([GOOD], name="first.json")) == []
    bad = write_bundle([GOOD | {"id": "fine"}, record], name="bad.json")
    errors = engine.load(bad)
    assert len(errors) == 1
    err = errors[0]
    assert err.file == bad and err.index == 1 and problem in err.problem
    if isinstance(record, dict) and isinstance(record.get("id"), str):
        assert err.pattern_id == "x" and "(id 'x')" in str(err)
    assert f"{bad}: pattern #1" in str(err)
    # the old set is still active, the bad file was not added
    assert engine.fix(chat()).kwargs["seed"] == 1 and engine.stats()["patterns"] == 1
    assert problem in engine.stats()["last_error"]


@pytest.mark.parametrize("text, name, problem", [
    ('{"version": 1, "patterns": [', "broken.json", "invalid JSON"),
    ("patterns: [\n  - {id: a\n", "broken.yaml", "invalid YAML"),
    ('{"version": 1, "patterns": {"a": 1}}', "notlist.json", "'patterns' must be a list"),
    ("[1, 2]", "array.json", "must be an object with a 'patterns' list"),
])
def test_bad_documents(write_bundle, engine, text, name, problem):
    engine.load(write_bundle([GOOD], name="first.json"))
    errors = engine.load(write_bundle(text=text, name=name))
    assert len(errors) == 1 and problem in errors[0].problem and errors[0].file.endswith(name)
    assert engine.fix(chat()).kwargs["seed"] == 1


def test_duplicate_ids_within_and_across_files(write_bundle, engine):
    errors = engine.load(write_bundle([GOOD, {**GOOD, "fix": {"seed": 2}}], name="dup.json"))
    assert len(errors) == 1 and errors[0].pattern_id == "good" and errors[0].index == 1
    assert "duplicate id (already used by pattern #0)" in errors[0].problem
    one = write_bundle([GOOD], name="one.json")
    two = write_bundle([{"id": "other", "pattern": {"model": "x"}, "fix": {"seed": 1}}, GOOD], name="two.json")
    errors = engine.load([one, two])
    assert len(errors) == 1 and errors[0].file == two and errors[0].index == 1
    assert f"already used by pattern #0 of {one}" in errors[0].problem
    assert not engine.active


def test_missing_path(engine, caplog, write_bundle):
    with caplog.at_level("ERROR", logger="arc"):
        errors = engine.load("/nonexistent/bundle.json")
    assert errors[0].file == "/nonexistent/bundle.json" and "no such file" in errors[0].problem
    # nothing was loaded before: the log says so instead of promising a previous set
    assert "no pattern set is active, calls are sent unfixed" in caplog.text
    assert "previous" not in caplog.text
    caplog.clear()
    assert engine.load(write_bundle([GOOD], name="first.json")) == []
    with caplog.at_level("ERROR", logger="arc"):
        engine.load("/nonexistent/bundle.json")
    assert "the previous pattern set (1 patterns) stays active" in caplog.text


def test_several_errors_are_all_reported(write_bundle, engine):
    records = [GOOD, {"id": "a", "pattern": {"t": {"?": 1}}, "fix": {"seed": 1}},
               {"id": "b", "pattern": {"model": "m"}, "fix": {}}]
    errors = engine.load(write_bundle(records))
    assert [(e.index, e.pattern_id) for e in errors] == [(1, "a"), (2, "b")]


def test_cli_validate(write_bundle):
    good = write_bundle([GOOD], name="good.json", bundle_name="mine", version=4)
    proc = arc("patterns", "validate", good)
    assert proc.returncode == 0 and f"ok: {good}: 1 pattern(s) (mine@4)" in proc.stdout
    bad = write_bundle([GOOD, BAD_RECORDS[0][0]], name="bad.json")
    proc = arc("patterns", "validate", good, bad)
    assert proc.returncode == 1
    assert f"{bad}: pattern #1 (id 'x'): field 'temperature': unknown operator '~='" in proc.stderr
    report = json.loads(arc("patterns", "validate", "--json", bad).stdout)
    assert report["ok"] is False and report["errors"][0]["index"] == 1 and report["errors"][0]["id"] == "x"


def test_cli_test_shows_matches_and_fixed_request(write_bundle, tmp_path):
    bundle = write_bundle([GOOD | {"priority": 3},
                           {"id": "unsure", "pattern": {"model": "gpt-4"}, "fix": {"top_p": 0.1},
                            "confidence": 0.2}])
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}))
    proc = arc("patterns", "test", bundle, "--request", str(req))
    assert proc.returncode == 0, proc.stderr
    assert "good: applied" in proc.stdout and "unsure: low_confidence" in proc.stdout
    assert '"seed": 1' in proc.stdout and "arc.fix.skipped_reason = low_confidence" in proc.stdout
    out = json.loads(arc("patterns", "test", bundle, "--request", str(req), "--json", "--threshold", "0.1").stdout)
    assert out["sdk"] == "openai.chat" and out["changed"] is True
    assert out["request"]["top_p"] == 0.1 and [p["status"] for p in out["patterns"]] == ["applied", "applied"]
    req.write_text(json.dumps({"sdk": "anthropic.messages",
                               "request": {"model": "claude", "max_tokens": 5, "messages": []}}))
    proc = arc("patterns", "test", bundle, "--request", str(req))
    assert "no pattern matches this request" in proc.stdout and "request unchanged" in proc.stdout


def test_an_internal_error_while_loading_never_reaches_the_app(write_bundle, engine, monkeypatch):
    from arc_agent.patterns import engine as engine_module

    engine.load(write_bundle([GOOD], name="first.json"))

    def broken(paths):
        raise MemoryError("simulated")

    monkeypatch.setattr(engine_module, "load_layer", broken)
    errors = engine.load(write_bundle([GOOD], name="second.json"))
    assert len(errors) == 1 and "internal error while loading" in errors[0].problem
    assert engine.fix(chat()).kwargs["seed"] == 1


def test_cli_test_takes_the_request_inline_as_its_help_says(write_bundle):
    """``--request`` is "SDK keyword arguments as JSON": inline JSON works like a file (it was read as a
    file name: 'cannot read request {...}: No such file or directory'), and bad JSON is named."""
    bundle = write_bundle([GOOD])
    proc = arc("patterns", "test", bundle, "--request", '{"model": "gpt-4", "messages": []}', "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["changed"] is True and out["request"]["seed"] == 1
    proc = arc("patterns", "test", bundle, "--request", '{"model": ')
    assert proc.returncode == 1 and proc.stderr.startswith("error: cannot read request the inline --request:")
