"""Playwright under ``arc-instrument`` without the ``vision`` extra (here ImageHash hidden, as if not
installed): not patched, one warning naming the extra and how to install it, and the user's click
works as bare (it used to run half of the flow and log internal errors on every action)."""

from __future__ import annotations

import sys

from tests.helpers.procs import clean_env, run

APP = """
import sys
sys.modules["imagehash"] = None  # as if the vision extra were not installed
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
    page = browser.new_page()
    page.set_content("<button id=b onclick=\\"this.textContent='done'\\">go</button>")
    page.click("#b")
    print(page.text_content("#b"))
    browser.close()
"""


def test_playwright_without_the_vision_extra_is_left_alone_with_a_clear_message(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(APP)
    proc = run([sys.executable, str(app)], clean_env(ARC_ENDPOINT="grpc://127.0.0.1:9", ARC_SHUTDOWN_FLUSH_MS="100"),
               timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "done", proc.stderr
    assert ("arc: not instrumenting playwright: the vision extra is not installed (imagehash missing): "
            "pip install 'arc-runtime[vision]'") in proc.stderr
    assert "internal error" not in proc.stderr


def test_doctor_says_playwright_is_left_unpatched_without_the_vision_extra():
    code = ("import sys; sys.modules['imagehash'] = None; from arc_agent.cli import main; "
            "sys.exit(main(['doctor', '--timeout', '0.2']))")
    proc = run([sys.executable, "-c", code], clean_env(), timeout=60, instrument=False)
    assert ("warn playwright  " in proc.stdout and "left unpatched: the vision extra is not installed "
            "(pip install 'arc-runtime[vision]')" in proc.stdout), proc.stdout
