"""Long commands show a bar on a terminal and plain lines when piped (``arc_agent.progress``),
tried with real commands: ``arc patterns compile`` and ``arc report``, under a pseudo-terminal and a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

from tests.helpers.collector import arc_command
from tests.helpers.procs import ROOT, clean_env, run

DEMO = str(ROOT / "arc_agent" / "data" / "patterns" / "demo.yaml")


def _on_terminal(cmd: list, env: dict, timeout: float = 120, columns: int = 0) -> tuple:
    """(exit code, everything the command wrote) with stdin/stdout/stderr on a pseudo-terminal
    (``columns`` wide; 0: a terminal that reports no size, like ``script`` without one)."""
    master, slave = pty.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=str(ROOT))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout), b"".join(chunks).decode("utf-8", "replace")


def test_patterns_compile_draws_a_bar_on_a_terminal(tmp_path):
    code, text = _on_terminal(arc_command("patterns", "compile", DEMO, "-o", str(tmp_path / "p.arcpatterns")),
                              clean_env(), columns=100)
    assert code == 0, text
    assert "\r" in text and "100%" in text and "2/2" in text and "compile 1 bundle file(s)" in text
    assert "started" not in text  # no plain lines on a terminal
    assert "compiled 1 pattern(s)" in text


def test_patterns_compile_prints_plain_lines_when_piped(tmp_path):
    out = subprocess.run(arc_command("patterns", "compile", DEMO, "-o", str(tmp_path / "p.arcpatterns")),
                         capture_output=True, text=True, timeout=120, cwd=str(ROOT), env=clean_env())
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert "\r" not in out.stderr and "\x1b" not in out.stderr
    assert lines[0] == "compile 1 bundle file(s): started (2 items)"
    assert "compile 1 bundle file(s): load, validate and index" in lines
    assert "compile 1 bundle file(s): write 1 patterns" in lines
    assert lines[-1].startswith("compile 1 bundle file(s): done 2/2 in ")


def test_a_bar_keeps_its_elapsed_time_moving_during_a_long_step():
    script = ("import threading\nfrom arc_agent.progress import Progress\n"
              "with Progress('work', total=1) as p:\n"
              "    p.stage('one long step')\n"
              "    threading.Event().wait(1.3)\n"  # a step that takes a while: the bar is redrawn meanwhile
              "    p.advance()\n")
    code, text = _on_terminal([sys.executable, "-c", script], clean_env())
    assert code == 0, text
    assert text.count("\r") >= 3, text  # first draw, at least one refresh while waiting, the final draw
    assert "one long step" in text and "1/1" in text


def test_iteration_notes_sit_beside_the_bar_or_get_a_line_each():
    script = ("from arc_agent.progress import Progress\n"
              "bar = Progress('train', total=2, unit='iteration').start()\n"
              "try:\n"
              "    for i in (1, 2):\n"
              "        bar.advance(note=f'iteration {i}/2 reward 0.{i}')\n"
              "finally:\n"
              "    bar.close()\n")
    piped = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                           env=clean_env())
    lines = piped.stderr.splitlines()
    assert lines[:3] == ["train: started (2 items)", "train: iteration 1/2 reward 0.1",
                         "train: iteration 2/2 reward 0.2"]
    assert lines[3].startswith("train: done 2/2 in ") and len(lines) == 4
    code, text = _on_terminal([sys.executable, "-c", script], clean_env(), columns=120)
    assert code == 0 and "iteration 2/2 reward 0.2" in text and "2/2" in text and "started" not in text


def test_replay_prints_plain_lines_when_piped_and_its_table(devllm, tmp_path):
    """``arc replay`` on a cassette the demo app captured under ``arc-instrument``: progress lines on
    stderr (piped), the per-pattern table on stdout with the demo pattern's calls fixed."""
    cassette = tmp_path / "calls.jsonl"
    app = run([sys.executable, str(ROOT / "examples" / "demo_app.py")],
              clean_env(DEVLLM_URL=devllm.base_url, ARC_PATTERNS="demo", ARC_CAPTURE=str(cassette),
                        ARC_CAPTURE_RATE="1"))
    assert app.returncode == 0 and "RESULT 5/5" in app.stdout, app.stdout + app.stderr
    records = len(cassette.read_text().splitlines())
    assert records == 7  # 5 JSON asks, a stream, an anthropic message
    out = subprocess.run(arc_command("replay", str(cassette), "--patterns", "demo", "--base-url", devllm.base_url),
                         capture_output=True, text=True, timeout=120, cwd=str(ROOT), env=clean_env())
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert "\r" not in out.stderr and lines[0] == f"replay: started ({records} items)"
    assert lines[-1].startswith(f"replay: done {records}/{records} in ")
    (row,) = [line.split() for line in out.stdout.splitlines() if line.startswith("demo-high-temperature")]
    assert row[1:] == ["5", "5", "0", "5", "0"]  # calls, failed before, failed after, fixed, broken
