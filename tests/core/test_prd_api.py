"""``from arc_runtime import Arc`` and the hello world of the product's docs (issue 17 §5).

A real process, the real openai SDK against ``arc dev-llm`` (which returns broken JSON above
temperature 0.9), spans into a real ``arc collector``."""

import json
import sys
from pathlib import Path

from tests.helpers.collector import collector  # noqa: F401 - the shared `arc collector` fixture
from tests.helpers.procs import clean_env, run

APP = str(Path(__file__).parent / "apps" / "hello_app.py")


def test_hello_world_fixes_the_call_and_reports_it(devllm, collector, tmp_path):  # noqa: F811
    cache = tmp_path / "arc-cache"
    key = "hello-collector-key-7f3a"
    env = clean_env(DEVLLM_URL=devllm.base_url, COLLECTOR=collector.otlp_endpoint, CACHE_DIR=str(cache), KEY=key,
                    ARC_CAPTURE="calls.jsonl", ARC_CAPTURE_RATE="1")
    before = len(devllm.requests("/v1/chat/completions"))
    proc = run([sys.executable, APP], env, timeout=120, instrument=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert out["light"] and out["alias"] == "arc_agent.api"
    assert isinstance(out["reply"], dict)  # valid JSON: the fix reached the server
    (sent,) = [r["body"] for r in devllm.requests("/v1/chat/completions")[before:]]
    assert sent["temperature"] == 0.7
    # cache_dir: Arc's files go there (a setting given in the environment would have been kept)
    assert out["env"]["ARC_HOME"] == str(cache) and out["env"]["ARC_BLOB_DIR"] == str(cache / "blobs")
    assert out["env"]["ARC_PATTERNS_SNAPSHOT"] == str(cache / "snapshots")
    records = (cache / "captures" / "calls.jsonl").read_text().splitlines()
    assert len(records) == 1 and json.loads(records[0])["sent_kwargs"]["temperature"] == 0.7
    assert out["privacy"] == "hash_only" and out["env"]["ARC_PRIVACY_MODE"] == "hash_only"

    sql = ("SELECT SpanAttributes['arc.fix.applied'] AS fixed, SpanAttributes['gen_ai.request.temperature'] AS t "
           "FROM otel_traces WHERE SpanName = 'chat gpt-4'")
    assert collector.wait_for_count("SELECT count() FROM otel_traces WHERE SpanName = 'chat gpt-4'", 1) == 1
    assert collector.query(sql) == [{"fixed": "true", "t": "0.7"}]
    dump = json.dumps(collector.query("SELECT SpanAttributes, ResourceAttributes FROM otel_traces"))
    assert key not in dump and key not in proc.stderr
