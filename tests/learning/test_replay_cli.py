"""``arc replay`` tells a provider that never answered from requests that failed: a cassette captured
under ``arc-instrument`` (real openai SDK, real dev-llm) replayed against a closed port, a URL that is
no URL, and the live server."""

from __future__ import annotations

import subprocess
import sys

import pytest

from arc_agent.devllm import DevLLMServer
from tests.helpers.collector import arc_command
from tests.helpers.ports import free_port
from tests.helpers.procs import ROOT, clean_env, run

APP = """
import os, openai
c = openai.OpenAI(base_url=os.environ["DEVLLM_URL"] + "/v1", api_key="sk-x", max_retries=0)
c.chat.completions.create(model="gpt-4", temperature=0.95, response_format={"type": "json_object"},
                          messages=[{"role": "user", "content": "an order as JSON"}])
"""


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    srv = DevLLMServer(port=0).start()
    cassette = tmp_path_factory.mktemp("replay") / "calls.jsonl"
    env = clean_env(DEVLLM_URL=srv.base_url, ARC_CAPTURE=str(cassette), ARC_CAPTURE_RATE="1",
                    OTEL_TRACES_EXPORTER="none")
    proc = run([sys.executable, "-c", APP], env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    yield srv, cassette
    srv.stop()


def _replay(cassette, base_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(arc_command("replay", str(cassette), "--patterns", "demo", "--base-url", base_url),
                          capture_output=True, text=True, timeout=120, cwd=str(ROOT), env=clean_env())


def test_a_provider_that_never_answers_is_an_error_not_failed_calls(captured):
    _, cassette = captured
    url = f"http://127.0.0.1:{free_port()}"
    proc = _replay(cassette, url)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"2 of 2 sends got no answer from {url} (APIConnectionError" in proc.stderr
    assert f"arc replay: cannot reach {url}" in proc.stderr


def test_a_base_url_that_is_no_url_is_named(captured):
    _, cassette = captured
    proc = _replay(cassette, "localhost-8765")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--base-url 'localhost-8765': expected the provider's http(s)://host[:port]" in proc.stderr


def test_the_live_provider_shows_the_fix(captured):
    srv, cassette = captured
    proc = _replay(cassette, srv.base_url)
    assert proc.returncode == 0, proc.stderr
    row = next(line.split() for line in proc.stdout.splitlines() if line.startswith("demo-high-temperature"))
    assert row[1:] == ["1", "1", "0", "1", "0"]  # calls, failed before, failed after, fixed, broken
    assert "no answer" not in proc.stderr


def test_a_file_that_is_no_cassette_is_named(captured, tmp_path):
    srv, _ = captured
    wrong = tmp_path / "app.py"
    wrong.write_text(APP)
    proc = _replay(wrong, srv.base_url)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"arc replay: {wrong}: no cassette record in it (" in proc.stderr and "records replayed" not in proc.stdout


PLUGIN_TEST = """
def test_patterns_do_not_regress(arc_replay):
    report = arc_replay({cassette!r}, patterns="demo")
    report.assert_no_regression()
    assert report.failed_after < report.failed_before
"""


def test_the_pytest_plugin_says_the_provider_is_unreachable(captured, tmp_path):
    """The ``arc_replay`` fixture against a provider that never answers fails naming it (it failed with
    'assert 1 < 1', as if the patterns had not fixed anything); against the live one it passes."""
    srv, cassette = captured
    test_file = tmp_path / "test_replayed.py"
    test_file.write_text(PLUGIN_TEST.format(cassette=str(cassette)))
    for url, code in ((f"http://127.0.0.1:{free_port()}", 1), (srv.base_url, 0)):
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file),
                               "--arc-replay-base-url", url], env=clean_env(), cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=180)
        assert proc.returncode == code, proc.stdout + proc.stderr
        assert (f"arc_replay: cannot reach {url}" in proc.stdout) == (code == 1), proc.stdout


def test_the_default_provider_is_dev_llm_on_its_default_port(captured):
    """Without --base-url, ``arc replay`` goes to ``arc dev-llm``'s default port (8765), which its help
    names as the example (it went to 8000, where nothing of Arc's listens)."""
    import socket

    from arc_agent.devllm.cli import DEFAULT_PORT

    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", DEFAULT_PORT)) == 0:
            pytest.skip(f"something listens on {DEFAULT_PORT} here")
    srv = DevLLMServer(port=DEFAULT_PORT).start()  # what `arc dev-llm` with no option starts
    try:
        proc = subprocess.run(arc_command("replay", str(captured[1]), "--patterns", "demo"), capture_output=True,
                              text=True, timeout=120, cwd=str(ROOT), env=clean_env())
    finally:
        srv.stop()
    assert proc.returncode == 0, proc.stderr
    assert f"1 records replayed against http://127.0.0.1:{DEFAULT_PORT}" in proc.stdout
