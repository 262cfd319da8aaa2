"""ARC_CAPTURE: the cassette of an instrumented app (real SDK, real dev-llm) — content, file mode,
redaction, rates — and the writer's rotation and bounds on real files."""

import json
import os
import random
import stat

import pytest

from arc_agent.llm import cassette
from arc_agent.llm.capture import Capture
from tests.outcomes.apps.outcome_app import AUTH, SECRET
from tests.outcomes.conftest import run_scenario, spans_by_tag


def test_cassette_of_an_instrumented_app(devllm, receiver, tmp_path):
    path = tmp_path / "calls.jsonl"
    out = run_scenario(devllm, receiver.endpoint, "capture", ARC_CAPTURE=str(path), ARC_CAPTURE_RATE="1",
                       ARC_PATTERNS="demo", OK_CALLS="20")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    raw = path.read_bytes()
    for secret in (SECRET, AUTH, "sk-header", "Authorization", "X-Custom", "api_key"):
        assert secret.encode() not in raw, secret
    records = list(cassette.read(path, strict=True))
    assert len(records) == 22
    spans = spans_by_tag(out, receiver)
    by_span = {r["span_id"]: r for r in records}
    fixed = by_span[spans["cap_invalid_json"].span_id]  # the demo pattern clamps temperature: now valid JSON
    assert fixed["provider"] == "openai" and fixed["operation"] == "chat.completions" and fixed["v"] == 1
    assert fixed["kwargs"]["temperature"] == 0.95 and fixed["sent_kwargs"]["temperature"] == 0.7
    assert fixed["kwargs"]["response_format"] == {"type": "json_object"}
    assert fixed["fix"] == {"applied": True, "pattern_ids": ["demo-high-temperature"]}
    assert fixed["outcome"] == "ok" and "error" not in fixed
    assert set(fixed["kwargs"]) == {"model", "messages", "temperature", "response_format"}
    assert fixed["trace_id"] == spans["cap_invalid_json"].trace_id
    failed = by_span[spans["cap_err"].span_id]
    assert failed["outcome"] == "http_error" and failed["kwargs"] == failed["sent_kwargs"]
    assert failed["error"] == {"status": 400, "code": "unsupported_parameter", "param": "temperature",
                               "type": "invalid_request_error"}
    ok = by_span[spans["cap_ok_3"].span_id]
    # recorded as sent, not as the app's list looks after it appended the answer
    assert ok["kwargs"]["messages"] == [{"role": "user", "content": "Say hello 3"}]
    assert ok["fix"] == {"applied": False, "pattern_ids": []} and ok["outcome"] == "ok"


def test_capture_rates_and_off_costs(devllm, receiver, tmp_path):
    path = tmp_path / "failures.jsonl"
    run_scenario(devllm, receiver.endpoint, "capture", ARC_CAPTURE=str(path), ARC_CAPTURE_RATE="0",
                 OK_CALLS="10")
    assert sorted(r["outcome"] for r in cassette.read(path)) == ["http_error", "invalid_json"]
    sampled = tmp_path / "sampled.jsonl"  # a call the sampler drops (no span) is still captured
    out = run_scenario(devllm, receiver.endpoint, "capture", ARC_CAPTURE=str(sampled), ARC_CAPTURE_RATE="1",
                       ARC_SAMPLE_QPS="1", ARC_SAMPLE_RATE="0", OK_CALLS="0", UNTIL_SAMPLED_OUT="1")
    assert out["sampled_out"]
    last = list(cassette.read(sampled))[-1]
    assert last["kwargs"]["messages"][0]["content"] == out["sampled_out"]
    assert last["outcome"] == "ok" and "trace_id" not in last
    off = tmp_path / "off.jsonl"
    out = run_scenario(devllm, receiver.endpoint, "capture", OK_CALLS="2")
    assert out["capture_loaded"] is False  # no ARC_CAPTURE: the cassette code is not even imported
    out = run_scenario(devllm, receiver.endpoint, "capture", ARC_CAPTURE=str(off), ARC_DISABLE="1", OK_CALLS="2")
    assert not off.exists() and out["capture_loaded"] is False


class _Call:
    """What Capture.offer reads of a finished LLMCall."""

    class spec:
        provider, api = "openai", "chat.completions"

    def __init__(self, outcome):
        self.outcome, self.attrs, self.deferred, self.fix_applied = outcome, {}, None, False
        self.app_kwargs = self.kwargs = {"model": "m", "messages": []}
        self.start_ns = 0


def test_default_rates_keep_every_failure_and_a_twentieth_of_successes(tmp_path):
    writer = cassette.CassetteWriter(tmp_path / "c.jsonl")
    cap = Capture(writer)  # defaults: failures 1.0, successes 0.05
    cap.random = random.Random(7).random
    for _ in range(4000):
        cap.offer(_Call("ok"), None, None)
    for _ in range(50):
        cap.offer(_Call("truncated"), None, None)
    assert writer.flush(10)
    kept = [r["outcome"] for r in cassette.read(tmp_path / "c.jsonl")]
    assert kept.count("truncated") == 50
    assert 140 <= kept.count("ok") <= 260  # 200 expected
    writer.close()


def record(i: int, size: int = 100) -> dict:
    return cassette.make_record("openai", "chat.completions", {"model": "m", "messages": [
        {"role": "user", "content": f"{i}:" + "x" * size}]}, {}, time_s=1.0, outcome="ok")


def test_rotation_keeps_two_files_under_the_bound_newest_last(tmp_path):
    path = tmp_path / "r.jsonl"
    writer = cassette.CassetteWriter(path, max_bytes=16384)
    for i in range(300):
        assert writer.submit(record(i))
        if i % 50 == 0:
            assert writer.flush(10)
    assert writer.flush(10)
    assert sorted(os.listdir(tmp_path)) == ["r.jsonl", "r.jsonl.1"]
    assert os.path.getsize(path) <= 8192 and 8192 - 400 < os.path.getsize(str(path) + ".1") <= 8192
    numbers = [int(r["kwargs"]["messages"][0]["content"].split(":")[0]) for r in cassette.read(path)]
    assert numbers == sorted(numbers) and numbers[-1] == 299 and len(numbers) > 20
    assert writer.rotations >= 2
    assert not writer.submit(record(0, size=20_000)) or writer.flush(10)  # bigger than a file: dropped
    assert writer.dropped == 1
    assert writer.close() and not writer.submit(record(1))


def test_existing_file_becomes_private_and_a_symlink_is_not_followed(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("")
    os.chmod(path, 0o644)
    writer = cassette.CassetteWriter(path)
    writer.submit(record(1))
    assert writer.flush(10) and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    writer.close()
    target = tmp_path / "elsewhere"
    target.write_text("")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    writer = cassette.CassetteWriter(link)
    writer.submit(record(2))
    assert writer.flush(10)
    assert target.read_text() == "" and writer.errors == 1 and writer.dropped == 1
    writer.close()


def test_redaction_keeps_json_only_and_no_credentials():
    class Client:
        pass

    kwargs = {"model": "m", "api_key": "sk-1", "extra_headers": {"Authorization": "Bearer x"}, "timeout": 5,
              "http_client": Client(), "extra_query": {"api-key": "k"}, "temperature": float("nan"),
              "metadata": {"Authorization": "Bearer y", "user": "u", "obj": Client(), "deep": [1, {"password": 2}]},
              "extra_body": {"temperature": 0.3}, "stream": True, "n": True}
    red = cassette.redact(kwargs)
    assert red == {"model": "m", "metadata": {"user": "u", "deep": [1, {}]}, "extra_body": {"temperature": 0.3},
                   "stream": True, "n": True}
    json.dumps(red, allow_nan=False)


def test_reader_skips_cut_lines_or_names_them_when_strict(tmp_path):
    path = tmp_path / "c.jsonl"
    good = json.dumps(record(1))
    path.write_text(good + "\n" + '{"v": 1, "operation": "chat.comp' + "\n" + good + "\n")
    assert len(list(cassette.read(path))) == 2
    with pytest.raises(cassette.CassetteError, match=r"c.jsonl:2: not JSON"):
        list(cassette.read(path, strict=True))
    with pytest.raises(cassette.CassetteError, match="no such cassette"):
        list(cassette.read(tmp_path / "missing.jsonl"))


def test_a_forked_child_writes_its_own_records_to_the_same_cassette(tmp_path):
    path = tmp_path / "c.jsonl"
    writer = cassette.CassetteWriter(path)
    writer.submit(record(1))
    assert writer.flush(10)
    pid = os.fork()
    if pid == 0:  # child: the writer starts a thread of its own (the parent's did not survive the fork)
        code = 0 if writer.submit(record(2)) and writer.close(10) else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    writer.submit(record(3))
    assert writer.flush(10)
    numbers = sorted(int(r["kwargs"]["messages"][0]["content"].split(":")[0]) for r in cassette.read(path, strict=True))
    assert numbers == [1, 2, 3]
    writer.close()
