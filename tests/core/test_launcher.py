"""arc-instrument: usage, exit codes, PYTHONPATH, children, user sitecustomize, disable switches."""

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.procs import ARC_INSTRUMENT, clean_env, run, run_json

APPS = Path(__file__).parent / "apps"
PY = sys.executable


def test_usage_version_and_unknown_command():
    env = clean_env()
    none = subprocess.run([ARC_INSTRUMENT], env=env, capture_output=True, text=True)
    assert none.returncode == 2 and "usage: arc-instrument" in none.stdout
    helped = subprocess.run([ARC_INSTRUMENT, "--help"], env=env, capture_output=True, text=True)
    assert helped.returncode == 0 and "usage" in helped.stdout
    version = subprocess.run([ARC_INSTRUMENT, "--version"], env=env, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("arc-instrument 0.")
    missing = subprocess.run([ARC_INSTRUMENT, "no-such-command-xyz"], env=env, capture_output=True, text=True)
    assert missing.returncode == 127
    assert missing.stderr.strip() == "arc-instrument: command not found: no-such-command-xyz"


def test_pythonpath_is_prepended_and_user_entries_kept(tmp_path):
    env = clean_env(PYTHONPATH=f"{tmp_path}:/opt/other")
    out = run([PY, "-c", "import os; print(os.environ['PYTHONPATH'])"], env)
    parts = out.stdout.strip().split(":")
    assert parts[0].endswith("arc_bootstrap") and parts[1:] == [str(tmp_path), "/opt/other"]


def test_start_up_imports_nothing_heavy():
    code = ("import sys, threading; heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('opentelemetry', 'wrapt', 'grpc', 'google', 'typing', 'logging', 'arc_agent.runtime')]; "
            "print(heavy, threading.active_count(), any(type(f).__name__ == 'ArcFinder' for f in sys.meta_path))")
    out = run([PY, "-c", code], clean_env())
    assert out.stdout.strip() == "[] 1 True", out.stderr


def test_child_processes_are_instrumented(devllm, receiver):
    env = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                    ARC_EXPORT_DELAY_MS="50")
    assert run_json([PY, str(APPS / "children_app.py")], env)["result"] == 0
    spans = receiver.wait_for(3)
    assert sorted(s.name for s in spans) == ["chat child-parent", "chat child-spawn", "chat child-subprocess"]


def test_user_sitecustomize_is_chained(tmp_path, devllm, receiver):
    (tmp_path / "sitecustomize.py").write_text("import os\nos.environ['USER_SITECUSTOMIZE_RAN'] = 'yes'\n")
    env = clean_env(PYTHONPATH=str(tmp_path), DEVLLM_URL=devllm.base_url,
                    OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    code = ("import os, json, openai; c = openai.OpenAI(api_key='k', base_url=os.environ['DEVLLM_URL'] + '/v1');"
            "c.chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'x'}]);"
            "print(os.environ.get('USER_SITECUSTOMIZE_RAN'))")
    out = run([PY, "-c", code], env)
    assert out.stdout.strip() == "yes", out.stderr
    assert [s.name for s in receiver.wait_for(1)] == ["chat m"]


def test_broken_user_sitecustomize_does_not_stop_the_app(tmp_path):
    (tmp_path / "sitecustomize.py").write_text("raise ValueError('user bug')\n")
    out = run([PY, "-c", "print('app ran')"], clean_env(PYTHONPATH=str(tmp_path)))
    assert out.returncode == 0 and out.stdout.strip() == "app ran"
    assert "user bug" in out.stderr


def _arc_state_code() -> str:
    return ("import os, sys, json, threading, openai, anthropic;"
            "from openai.resources.chat.completions import Completions;"
            "from anthropic.resources.messages import Messages;"
            "c = openai.OpenAI(api_key='k', base_url=os.environ['DEVLLM_URL'] + '/v1', max_retries=0);"
            "c.chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'x'}]);"
            "a = anthropic.Anthropic(api_key='k', base_url=os.environ['DEVLLM_URL'], max_retries=0);"
            "a.messages.create(model='c', max_tokens=5, messages=[{'role': 'user', 'content': 'x'}]);"
            "print(json.dumps([hasattr(Completions.create, '_self_arc_patched'),"
            " hasattr(Messages.create, '_self_arc_patched'), 'arc_agent.runtime' in sys.modules,"
            " [t.name for t in threading.enumerate() if t.name.startswith('arc')]]))")


def test_arc_disable_turns_everything_off(devllm, receiver):
    for value in ("1", "true", "YES"):
        env = clean_env(ARC_DISABLE=value, DEVLLM_URL=devllm.base_url,
                        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
        out = run([PY, "-c", _arc_state_code()], env)
        assert out.stdout.strip() == "[false, false, false, []]", out.stderr
    assert receiver.spans == []


def test_single_integration_can_be_disabled(devllm, receiver):
    env = clean_env(ARC_DISABLED_INSTRUMENTATIONS="openai, opneai", DEVLLM_URL=devllm.base_url,
                    OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    out = run([PY, "-c", _arc_state_code()], env)
    assert out.stdout.strip().startswith("[false, true, true"), out.stderr
    assert out.stderr.count("ARC_DISABLED_INSTRUMENTATIONS names opneai, not an integration") == 1, out.stderr
    assert [s.attributes["gen_ai.provider.name"] for s in receiver.wait_for(1)] == ["anthropic"]


def test_already_imported_library_is_patched_by_arc(devllm, receiver):
    code = ("import os, openai; from arc_agent import Arc;"
            "c = openai.OpenAI(api_key='k', base_url=os.environ['DEVLLM_URL'] + '/v1');"
            "Arc(endpoint=os.environ['EP']); Arc(endpoint=os.environ['EP']);"  # twice is harmless
            "c.chat.completions.create(model='early', messages=[{'role': 'user', 'content': 'x'}])")
    env = clean_env(DEVLLM_URL=devllm.base_url, EP=receiver.endpoint)
    out = run([PY, "-c", code], env, instrument=False)
    assert out.returncode == 0, out.stderr
    assert [s.name for s in receiver.wait_for(1)] == ["chat early"]


def test_wrap_instruments_one_client_only(devllm, receiver):
    code = ("import os, openai; from arc_agent import Arc;"
            "arc = Arc(endpoint=os.environ['EP']);"
            "mk = lambda: openai.OpenAI(api_key='k', base_url=os.environ['DEVLLM_URL'] + '/v1');"
            "w = arc.wrap(mk()); plain = mk();"
            "w.chat.completions.create(model='wrapped', messages=[{'role': 'user', 'content': 'x'}]);"
            "w.chat.completions.with_raw_response.create(model='wrapped', messages=[{'role': 'user', 'content': 'x'}]);"
            "w.chat.completions.parse(model='wrapped', messages=[{'role': 'user', 'content': 'x'}]);"
            "plain.chat.completions.create(model='plain', messages=[{'role': 'user', 'content': 'x'}])")
    env = clean_env(DEVLLM_URL=devllm.base_url, EP=receiver.endpoint, ARC_DISABLED_INSTRUMENTATIONS="openai")
    out = run([PY, "-c", code], env, instrument=False)
    assert out.returncode == 0, out.stderr
    assert [s.name for s in receiver.wait_for(3)] == ["chat wrapped"] * 3


def test_fail_open_when_arc_itself_breaks(devllm, receiver):
    env = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    bare = run_json([PY, str(APPS / "bare_app.py")], env, instrument=False)
    out = run([PY, str(APPS / "failopen_app.py")], env, instrument=False)
    assert out.returncode == 0, out.stderr


    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["result"] == bare["result"]
    # the broken fixer stays installed for all four calls (the fourth breaks after fixing, in start())
    assert data["errors"]["fixer"] == 4 and data["errors"]["response"] == 1 and data["errors"]["start"] == 1
    assert data["errors"]["stream_chunk"] >= 1
    # each kind is logged once, however often it happens
    assert out.stderr.count("internal error in stream_chunk") == 1


def test_double_dash_ends_the_launcher_options(devllm, receiver):
    """``arc-instrument -- CMD`` (as with env or nohup) runs CMD under Arc: it was 'command not found: --'."""
    env = clean_env(DEVLLM_URL=devllm.base_url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    code = ("import os, openai; openai.OpenAI(base_url=os.environ['DEVLLM_URL'] + '/v1', api_key='x', max_retries=0)"
            ".chat.completions.create(model='gpt-4', messages=[{'role': 'user', 'content': 'hi'}])")
    proc = subprocess.run([ARC_INSTRUMENT, "--", PY, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [s.name for s in receiver.wait_for(1)] == ["chat gpt-4"]
    alone = subprocess.run([ARC_INSTRUMENT, "--"], env=env, capture_output=True, text=True)
    assert alone.returncode == 2 and "usage: arc-instrument" in alone.stderr
