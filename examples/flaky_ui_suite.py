"""A small flaky UI suite: Playwright clicks on the flaky fixture site, each with a tight test timeout.

Run it bare or under Arc (``arc-instrument python examples/flaky_ui_suite.py``); it prints one line
per action and a summary. ``--rounds N`` repeats the suite with other delays (seeded).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.fixtures.flaky_site import FlakySite, delays_for_seed  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SUITE = ("spinner", "cookie_banner", "late_render", "late_enabled", "moving", "below_fold")


def main(argv: list | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-delay-ms", type=int, default=1800, help="longest flaky delay drawn (from 300 ms)")
    p.add_argument("--timeout-ms", type=int, default=1500, help="the test's own timeout per click")
    p.add_argument("--scenarios", default=",".join(SUITE))
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    failures = total = 0
    t0 = time.perf_counter()
    with FlakySite() as site, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 720})
        for r in range(args.rounds):
            delays = delays_for_seed(args.seed + r, 300, max(300, args.max_delay_ms))
            for scenario in args.scenarios.split(","):
                page.goto(site.url(scenario, d=delays[scenario]))
                total += 1
                try:
                    page.click("#target", timeout=args.timeout_ms)
                    status = "ok"
                except Exception as exc:
                    failures += 1
                    status = f"failed ({type(exc).__name__})"
                print(f"{scenario:14s} d={delays[scenario]:5d} ms  {status}", flush=True)
        browser.close()
    print(f"{total - failures}/{total} passed, {failures} failed in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
