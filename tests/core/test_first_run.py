"""A new user's first run (issue 17 §7): missing extras named by the command and by `arc doctor`,
doctor's exit code without a collector, arc-instrument's help, an interpreter that cannot import Arc."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers.procs import ARC_INSTRUMENT, ROOT, clean_env

# runs `arc ARGS` in an interpreter where the named modules cannot be imported (an install without that extra)
WITHOUT = ("import sys\nfor name in sys.argv[1].split(','): sys.modules[name] = None  # import -> ModuleNotFoundError\n"
           "from arc_agent.cli import main\nsys.exit(main(sys.argv[2:]))\n")


def arc_without(modules: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT, modules, *args], capture_output=True, text=True,
                          timeout=120, cwd=str(ROOT), env=env or clean_env())


@pytest.mark.parametrize("modules, args, extra", [
    ("chdb", ("collector", "--listen", "127.0.0.1:0", "--query-listen", "127.0.0.1:0"), "collector"),
    ("chdb", ("query", "SELECT 1"), "collector"),
    ("ray", ("learn", "patterns", "--help"), "training"),
    ("torch", ("train", "ui-policy", "--help"), "training"),
    ("cryptography", ("registry", "keygen", "{tmp}/signing-key"), "control"),
])
def test_a_command_whose_extra_is_missing_names_the_extra(tmp_path, modules, args, extra):
    store = tmp_path / "store"
    store.mkdir()
    out = arc_without(modules, *(a.replace("{tmp}", str(tmp_path)) for a in args), env=clean_env(ARC_STORE=str(store)))
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert f"needs the '{extra}' extra ({modules} is not installed): pip install 'arc-runtime[{extra}]'" in out.stderr


def test_doctor_agrees_that_the_store_needs_the_collector_extra(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    out = arc_without("chdb", "doctor", env=clean_env(ARC_STORE=str(store)))
    assert "-    collector  not installed (chdb missing): pip install 'arc-runtime[collector]'" in out.stdout
    assert f"store {store}: chDB is not installed" in out.stdout and f"chDB store {store} exists" not in out.stdout


def test_doctor_on_a_fresh_machine_warns_about_the_collector_and_exits_0(tmp_path):
    from tests.telemetry.conftest import free_port

    env = clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=f"grpc://127.0.0.1:{free_port()}", ARC_STORE=str(tmp_path / "none"),
                    HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "arc_agent.cli", "doctor"], capture_output=True, text=True,
                         timeout=60, cwd=str(ROOT), env=env)
    assert out.returncode == 0, out.stdout
    assert "warn grpc://127.0.0.1:" in out.stdout and "Start one with `arc collector`" in out.stdout
    assert "BAD" not in out.stdout
    assert out.stdout.rstrip().endswith("Nothing misconfigured; 2 warning(s) (marked warn above).")
    bad = subprocess.run([sys.executable, "-m", "arc_agent.cli", "doctor"], capture_output=True, text=True,
                         timeout=60, cwd=str(ROOT), env={**env, "ARC_SAMPLE_RATE": "7"})
    assert bad.returncode == 1 and "1 misconfiguration(s) to fix (marked BAD above), 2 warning(s)." in bad.stdout


def test_arc_instrument_help_lists_the_main_settings_and_points_to_doctor():
    out = subprocess.run([ARC_INSTRUMENT, "--help"], capture_output=True, text=True, env=clean_env())
    assert out.returncode == 0
    for setting in ("ARC_PATTERNS", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "ARC_DISABLE=1",
                    "ARC_CAPTURE", "ARC_METRICS_PORT"):
        assert setting in out.stdout, setting
    assert "`arc doctor`" in out.stdout and "`arc collector`" in out.stdout


def test_an_interpreter_without_arc_says_which_one_and_how_to_fix(tmp_path):
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    python = bare / "bin" / "python"
    out = subprocess.run([ARC_INSTRUMENT, str(python), "-c", "print('app ran')"], capture_output=True, text=True,
                         timeout=60, cwd=str(tmp_path), env=clean_env())
    assert out.returncode == 0 and out.stdout == "app ran\n"  # the program still runs, without Arc
    assert f"arc: this Python ({python}," in out.stderr and "cannot import Arc" in out.stderr
    assert "activate that venv" in out.stderr and "pip install arc-runtime" in out.stderr
    assert "Traceback" not in out.stderr
