"""Vision benchmark: the flaky-UI suite bare vs under Arc (every privacy tier), in one process.

Each round draws a delay per scenario from a seed (the same for every variant of that round), then
runs the suite (Playwright sync + Selenium, one test per scenario, a tight 500 ms per-action timeout
for Playwright) bare (Arc unpatched) and under Arc in each tier. Also measured in the same run:
per-action time on a steady page and on a fresh page (the first action after a navigation) bare vs
Arc (overhead p50/p95), first visits (nothing remembered of the target), Chromium's own
clip-screenshot time (the floor of any pixel-based pre-action step: Chromium waits for a new
compositor frame for every capture), and the model's scoring time.

Prints failure rates, Arc/bare ratio, overhead, Arc's pre-action time, scoring p95 and tool
precision (share of tool applications after which the action succeeded and confidence rose).

Goals: failure rate under Arc <= 0.3x bare; scoring p95 <= 5 ms; pre-action p50 <= 30 ms on a page
already captured; in the pixel tiers (hash_only and up) a first visit must capture the page before
acting ("scored before it runs"), so its pre-action goal is p50 <= 1.3x Chromium's own clip
screenshot measured in the same run (sampled in every round, beside the variants) and p95 <= 100 ms;
a Selenium first visit is held to the clip screenshot of its own browser (through ChromeDriver): a
Chromium launched by ChromeDriver takes about two frames per capture where Playwright's launch takes
one (RESULTS.md, "Selenium first visits").
The fast paths on Playwright internals must be on (``arc_agent.fastpaths`` counts no fallback);
``ARC_VISION_FAST_PATHS_OFF=all`` measures the public fallbacks instead.

    python benchmarks/vision.py [--rounds 3] [--steady 60] [--fresh 20] [--first 10] [--floor 20]
                                [--frameworks playwright,selenium] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from arc_agent import fastpaths  # noqa: E402
from tests.fixtures.flaky_site import SCENARIOS, FlakySite, delays_for_seed  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIERS = ("minimal", "hash_only", "local_inference", "full_data")
PW_TIMEOUT_MS = 500
FIRST_VISIT_RATIO = 1.3  # pixel tiers' first-visit pre-action p50 goal, times Chromium's clip screenshot p50
FIRST_VISIT_P95_MS = 100.0
PHASES = ("steady", "fresh", "first", "suite")  # fresh: first action after a navigation, target remembered;
                                                # first: nothing remembered (a first visit)
EXPORTER = InMemorySpanExporter()
RAW: list = []  # every action's attributes before the tier filter: (tier, pre-action ms, tools, crop source,
                #  page capture)


def keep_raw_attributes() -> None:
    """Record each action's pre-action time before the privacy filter, so tiers that do not export it
    (minimal, hash_only) are measured too. Measurement only: the filtered span is unchanged."""
    from arc_agent.vision import privacy

    original = privacy.filter_attributes

    def keep(tier, attrs):
        RAW.append((tier, attrs.get("arc.vision.pre_action_ms"), attrs.get("arc.vision.tools"),
                    attrs.get("arc.vision.crop_source"), attrs.get("arc.vision.page_capture"),
                    attrs.get("arc.vision.framework")))
        return original(tier, attrs)
    privacy.filter_attributes = keep


def raw_records() -> list:
    out = list(RAW)
    RAW.clear()
    return out


def pct(values, q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# -- the suite ---------------------------------------------------------------------------------------
def pw_test(page, site, scenario: str, delay: int) -> bool:
    if scenario == "changed_id":
        page.goto(site.url(scenario, run=1))
        page.locator("#target").click(timeout=PW_TIMEOUT_MS)
        page.goto(site.url(scenario, run=2))
    else:
        page.goto(site.url(scenario, d=delay))
    if scenario == "rerender":
        page.wait_for_function("window.__flaky.rerendered")
    page.locator("#target").click(timeout=PW_TIMEOUT_MS)
    return page.text_content("#result") == "ordered"


def se_test(driver, site, scenario: str, delay: int) -> bool:
    from selenium.webdriver.common.by import By

    if scenario == "changed_id":
        driver.get(site.url(scenario, run=1))
        driver.find_element(By.ID, "target").click()
        driver.get(site.url(scenario, run=2))
    else:
        driver.get(site.url(scenario, d=delay))
    element = driver.find_element(By.ID, "target")
    if scenario == "rerender":
        deadline = time.monotonic() + 10
        while not driver.execute_script("return window.__flaky.rerendered") and time.monotonic() < deadline:
            time.sleep(0.05)
    element.click()
    return driver.execute_script("return document.getElementById('result').textContent") == "ordered"


def run_suite(runners: dict, site, delays: dict) -> dict:
    """{framework: [failed scenario names]} for one pass over every scenario."""
    out = {}
    for name, (test, handle) in runners.items():
        out[name] = []
        for scenario in SCENARIOS:
            try:
                ok = test(handle(), site, scenario, delays[scenario])
            except Exception:
                ok = False
            if not ok:
                out[name].append(scenario)
    return out


# -- Arc on/off ----------------------------------------------------------------------------------------
def set_tier(tier: str | None, blob_dir: str) -> None:
    from arc_agent.instrumentation import playwright as pw_integration
    from arc_agent.instrumentation import selenium as se_integration
    from arc_agent.vision import healing
    from arc_agent.vision import settings as vision_settings

    if tier is None:
        pw_integration.unpatch()
        se_integration.unpatch()
        return
    os.environ["ARC_PRIVACY_MODE"] = tier
    os.environ["ARC_BLOB_DIR"] = blob_dir
    healing.fingerprints(vision_settings.reload()).clear()
    pw_integration.patch()
    se_integration.patch()


def ui_spans() -> list:
    spans = [dict(s.attributes or {}) for s in EXPORTER.get_finished_spans() if s.name.startswith("ui.")]
    EXPORTER.clear()
    RAW.clear()
    return spans


def steady_actions(page, site, n: int) -> list:
    """Wall time (ms) of ``n`` clicks on a steady target."""
    page.goto(site.url("none"))
    loc = page.locator("#later")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        loc.click()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def fresh_actions(page, site, n: int) -> list:
    """Wall time (ms) of the first click after each of ``n`` navigations."""
    times = []
    for _ in range(n):
        page.goto(site.url("none"))
        t0 = time.perf_counter()
        page.locator("#later").click()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def first_visits(page, site, n: int) -> list:
    """Wall time (ms) of ``n`` first visits: the first click after a navigation with nothing remembered
    of the target, so the pixel tiers must capture the page before acting."""
    from arc_agent.vision import recall

    times = []
    for _ in range(n):
        recall.MEMORY.clear()
        page.goto(site.url("none"))
        t0 = time.perf_counter()
        page.locator("#later").click()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def selenium_floor(driver, site, n: int) -> list:
    """ms of ``n`` clip captures of the same crop through Selenium (``execute_cdp_cmd``, ChromeDriver):
    the floor of a Selenium first visit, which must capture before acting."""
    driver.get(site.url("none"))
    r = driver.execute_script("const r = document.querySelector('#later').getBoundingClientRect();"
                              " return [r.x, r.y, r.width, r.height];")
    params = {"format": "png", "optimizeForSpeed": True,
              "clip": {"x": max(0, r[0] - 24), "y": max(0, r[1] - 24), "width": r[2] + 48, "height": r[3] + 48,
                       "scale": 1}}
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        driver.execute_cdp_cmd("Page.captureScreenshot", params)
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def screenshot_floor(page, site, n: int) -> tuple:
    """(Playwright ``page.screenshot(clip=...)`` ms, CDP ``Page.captureScreenshot`` clip ms) of the crop
    around a target, ``n`` each, Arc unpatched."""
    page.goto(site.url("none"))
    box = page.locator("#later").bounding_box()
    clip = {"x": max(0, box["x"] - 24), "y": max(0, box["y"] - 24), "width": box["width"] + 48,
            "height": box["height"] + 48}
    cdp = page.context.new_cdp_session(page)
    params = {"format": "png", "optimizeForSpeed": True, "clip": {**clip, "scale": 1}}
    playwright_ms, cdp_ms = [], []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            page.screenshot(clip=clip, scale="css", caret="initial")
            t1 = time.perf_counter()
            cdp.send("Page.captureScreenshot", params)
            cdp_ms.append((time.perf_counter() - t1) * 1000.0)
            playwright_ms.append((t1 - t0) * 1000.0)
    finally:
        cdp.detach()
    return playwright_ms, cdp_ms


def scoring_micro(n: int = 2000) -> list:
    """Model scoring alone (preprocess a crop + onnxruntime), ms per call."""
    import numpy as np
    from PIL import Image

    from arc_agent.vision import imaging, model
    from arc_agent.vision.features import from_probe

    crop = Image.fromarray((np.random.default_rng(0).random((80, 160)) * 255).astype("uint8"))
    feats = from_probe({"n": 1, "rect": [10, 10, 120, 36], "vw": 1000, "vh": 720, "visible": True})
    model.score(imaging.model_input(crop), feats)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        model.score(imaging.model_input(crop), feats)
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def note_raw(pre_by: dict, sources: dict, captures: dict, phase: str) -> None:
    """File the recorded actions of one phase under (tier, phase); suite actions with tools are left out
    of the pre-action times, not of the page-capture counts."""
    for tier, pre_ms, tools, source, page_capture, framework in raw_records():
        if page_capture:
            counts = captures.setdefault((tier, phase), {})
            counts[page_capture] = counts.get(page_capture, 0) + 1
        if pre_ms is None or (phase == "suite" and tools):
            continue
        pre_by[(tier, phase)].append(pre_ms)
        if phase == "suite" and source == "capture":  # the suite's first visits, by framework
            pre_by.setdefault((tier, f"suite first visit, {framework}"), []).append(pre_ms)
        counts = sources.setdefault((tier, phase), {})
        counts[source or "none"] = counts.get(source or "none", 0) + 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="suite passes per variant (default 3)")
    ap.add_argument("--steady", type=int, default=60, help="steady-page clicks per variant and round")
    ap.add_argument("--fresh", type=int, default=20, help="first-click-after-navigation samples per variant and round")
    ap.add_argument("--frameworks", default="playwright,selenium")
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--first", type=int, default=10, help="first-visit samples per variant and round")
    ap.add_argument("--floor", type=int, default=20, help="clip-screenshot samples per round (each API)")
    ap.add_argument("--json", action="store_true", help="also print the summary as one JSON line")
    args = ap.parse_args(argv)
    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)
    from playwright.sync_api import sync_playwright

    blob_root = tempfile.mkdtemp(prefix="arc-vision-bench-")
    keep_raw_attributes()
    pre_by = {(t, phase): [] for t in TIERS for phase in PHASES}
    sources: dict = {}
    captures: dict = {}
    variants = [None, *TIERS]
    failures = {v: {f: [0, 0] for f in frameworks} for v in variants}
    spans_by_tier: dict = {t: [] for t in TIERS}
    steady = {v: [] for v in variants}
    fresh = {v: [] for v in variants}
    first = {v: [] for v in variants}
    fresh_spans: list = []
    arc_failed: list = []
    steady_spans: list = []
    floor: list = []
    floor_cdp: list = []
    floor_selenium: list = []
    t_start = time.time()
    with FlakySite() as site, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 720})
        driver = None
        runners = {}
        if "playwright" in frameworks:
            runners["playwright"] = (pw_test, lambda: page)
        if "selenium" in frameworks:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service

            options = webdriver.ChromeOptions()
            options.binary_location = "/usr/bin/chromium"
            for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,900"):
                options.add_argument(arg)
            driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
            runners["selenium"] = (se_test, lambda: driver)
        try:
            set_tier("local_inference", os.path.join(blob_root, "warm"))  # first-use imports, model load
            steady_actions(page, site, 5)
            ui_spans()
            for r in range(args.rounds):
                delays = delays_for_seed(args.seed + r)
                for variant in variants:
                    set_tier(variant, os.path.join(blob_root, f"{variant}-{r}"))
                    steady[variant] += steady_actions(page, site, args.steady)
                    note_raw(pre_by, sources, captures, "steady")
                    if variant in ("local_inference", "full_data"):
                        steady_spans.extend(ui_spans())
                    ui_spans()
                    fresh[variant] += fresh_actions(page, site, args.fresh)
                    note_raw(pre_by, sources, captures, "fresh")
                    if variant in ("local_inference", "full_data"):
                        fresh_spans.extend(ui_spans())
                    ui_spans()
                    first[variant] += first_visits(page, site, args.first)
                    note_raw(pre_by, sources, captures, "first")
                    ui_spans()
                    for name, failed in run_suite(runners, site, delays).items():
                        failures[variant][name][0] += len(failed)
                        failures[variant][name][1] += len(SCENARIOS)
                        if variant is not None:
                            arc_failed.extend(f"{variant}:{name}:{s}@{delays[s]}ms" for s in failed)
                    note_raw(pre_by, sources, captures, "suite")
                    if variant is not None:
                        spans_by_tier[variant] += ui_spans()
                    print(f"round {r + 1}/{args.rounds} {variant or 'bare'}: "
                          f"{ {k: v for k, v in failures[variant].items()} }", file=sys.stderr, flush=True)
                set_tier(None, blob_root)  # the floor, in the same round's conditions
                shots, cdp_shots = screenshot_floor(page, site, args.floor)
                floor += shots
                floor_cdp += cdp_shots
                if driver is not None:
                    floor_selenium += selenium_floor(driver, site, args.floor)
            set_tier(None, blob_root)
            scoring = scoring_micro()
        finally:
            if driver is not None:
                driver.quit()
            browser.close()

    def rate(variant, fw=None) -> float:
        cells = [failures[variant][fw]] if fw else list(failures[variant].values())
        fails, total = sum(c[0] for c in cells), sum(c[1] for c in cells)
        return fails / total if total else float("nan")

    bare_rate = rate(None)
    inferred = [s for t in ("local_inference", "full_data") for s in spans_by_tier[t]]
    tool_spans = [s for s in inferred if s.get("arc.vision.tools")]
    precise = [s for s in tool_spans if s.get("arc.vision.success")
               and (s.get("arc.vision.confidence_after") or 0) > (s.get("arc.vision.confidence_before") or 0)]
    pre_ms = [s["arc.vision.pre_action_ms"] for s in inferred if "arc.vision.pre_action_ms" in s
              and not s.get("arc.vision.tools")]
    steady_pre = [s["arc.vision.pre_action_ms"] for s in steady_spans if "arc.vision.pre_action_ms" in s]
    fresh_pre = [s["arc.vision.pre_action_ms"] for s in fresh_spans if "arc.vision.pre_action_ms" in s
                 and not s.get("arc.vision.tools")]
    fresh_bare_p50 = statistics.median(fresh[None])
    span_scoring = [s["arc.vision.inference_ms"] for s in inferred if "arc.vision.inference_ms" in s
                    and not s.get("arc.vision.tools")]
    bare_p50 = statistics.median(steady[None])
    summary = {
        "rounds": args.rounds, "tests_per_variant": sum(c[1] for c in failures[None].values()),
        "failure_rate": {"bare": round(bare_rate, 3),
                         **{t: round(rate(t), 3) for t in TIERS}},
        "failure_rate_by_framework": {fw: {"bare": round(rate(None, fw), 3),
                                           **{t: round(rate(t, fw), 3) for t in TIERS}} for fw in frameworks},
        "arc_vs_bare_failure_ratio": {t: round(rate(t) / bare_rate, 3) if bare_rate else None for t in TIERS},
        "steady_action_ms": {("bare" if v is None else v): {"p50": round(pct(steady[v], 0.5), 2),
                                                              "p95": round(pct(steady[v], 0.95), 2)}
                             for v in variants},
        "overhead_ms": {t: {"p50": round(pct(steady[t], 0.5) - bare_p50, 2),
                            "p95": round(pct(steady[t], 0.95) - pct(steady[None], 0.95), 2)} for t in TIERS},
        "fresh_action_ms": {("bare" if v is None else v): {"p50": round(pct(fresh[v], 0.5), 2),
                                                             "p95": round(pct(fresh[v], 0.95), 2)}
                            for v in variants},
        "fresh_overhead_ms": {t: {"p50": round(pct(fresh[t], 0.5) - fresh_bare_p50, 2),
                                  "p95": round(pct(fresh[t], 0.95) - pct(fresh[None], 0.95), 2)} for t in TIERS},
        "first_visit_action_ms": {("bare" if v is None else v): {"p50": round(pct(first[v], 0.5), 2),
                                                                  "p95": round(pct(first[v], 0.95), 2)}
                                  for v in variants},
        "pre_action_ms_fresh": {"p50": round(pct(fresh_pre, 0.5), 2), "p95": round(pct(fresh_pre, 0.95), 2),
                                "n": len(fresh_pre)},
        "pre_action_ms_steady": {"p50": round(pct(steady_pre, 0.5), 2), "p95": round(pct(steady_pre, 0.95), 2),
                                 "n": len(steady_pre)},
        "pre_action_ms_no_tools": {"p50": round(pct(pre_ms, 0.5), 2), "p95": round(pct(pre_ms, 0.95), 2),
                                   "n": len(pre_ms)},
        "pre_action_ms_by_tier": {f"{t}/{phase}": {"p50": round(pct(v, 0.5), 2), "p95": round(pct(v, 0.95), 2),
                                                    "n": len(v)} for (t, phase), v in pre_by.items()},
        "crop_source": {f"{t}/{phase}": dict(c) for (t, phase), c in sorted(sources.items())},
        "page_capture": {f"{t}/{phase}": dict(c) for (t, phase), c in sorted(captures.items())},
        "chromium_clip_screenshot_ms": {"p50": round(pct(floor, 0.5), 2), "p95": round(pct(floor, 0.95), 2),
                                        "n": len(floor)},
        "cdp_clip_screenshot_ms": {"p50": round(pct(floor_cdp, 0.5), 2), "p95": round(pct(floor_cdp, 0.95), 2)},
        "selenium_clip_screenshot_ms": {"p50": round(pct(floor_selenium, 0.5), 2) if floor_selenium else None,
                                        "p95": round(pct(floor_selenium, 0.95), 2) if floor_selenium else None},
        "fast_path_fallbacks": {f"{path}/{reason}": n for (path, reason), n in sorted(fastpaths.counts().items())},
        "scoring_ms": {"p50": round(pct(scoring, 0.5), 3), "p95": round(pct(scoring, 0.95), 3),
                       "in_spans_p95": round(pct(span_scoring, 0.95), 3)},
        "tool_precision": {"applications": len(tool_spans),
                           "precision": round(len(precise) / len(tool_spans), 3) if tool_spans else None},
        "arc_failures": arc_failed,
        "healed_actions": sum(1 for t in TIERS for s in spans_by_tier[t] if s.get("arc.vision.healed")),
        "seconds": round(time.time() - t_start, 1),
    }
    fr = summary["failure_rate"]
    print(f"\nflaky suite, {summary['tests_per_variant']} tests per variant ({args.rounds} rounds x "
          f"{len(SCENARIOS)} scenarios x {len(frameworks)} frameworks)")
    print("failure rate   bare {:.3f}  | ".format(fr["bare"]) + "  ".join(f"{t} {fr[t]:.3f}" for t in TIERS))
    print("Arc / bare     " + "  ".join(f"{t} {summary['arc_vs_bare_failure_ratio'][t]}" for t in TIERS)
          + "   (goal <= 0.3)")
    for fw, rates in summary["failure_rate_by_framework"].items():
        print(f"  {fw:<11}  " + "  ".join(f"{k} {v:.3f}" for k, v in rates.items()))
    print("steady click   " + "  ".join(f"{k} p50 {v['p50']} / p95 {v['p95']} ms"
                                        for k, v in summary["steady_action_ms"].items()))
    print("overhead       " + "  ".join(f"{t} p50 {v['p50']} / p95 {v['p95']} ms"
                                        for t, v in summary["overhead_ms"].items()))
    print("fresh click    " + "  ".join(f"{k} p50 {v['p50']} / p95 {v['p95']} ms"
                                        for k, v in summary["fresh_action_ms"].items()))
    print("fresh overhead " + "  ".join(f"{t} p50 {v['p50']} / p95 {v['p95']} ms"
                                        for t, v in summary["fresh_overhead_ms"].items())
          + "   (minimal: no page capture needed, a clip suffices)")
    pa, fl, sc = summary["pre_action_ms_no_tools"], summary["chromium_clip_screenshot_ms"], summary["scoring_ms"]
    ps = summary["pre_action_ms_steady"]
    print(f"pre-action     steady page p50 {ps['p50']} / p95 {ps['p95']} ms (goal p50 <= 30); flaky-suite "
          f"actions without tools p50 {pa['p50']} / p95 {pa['p95']} ms")
    pf = summary["pre_action_ms_fresh"]
    print(f"               fresh page (first action after navigation, local_inference/full_data) p50 {pf['p50']} / "
          f"p95 {pf['p95']} ms (goal below, first visit)")
    fc = summary["cdp_clip_screenshot_ms"]
    print(f"  Chromium's own clip screenshot, same run: page.screenshot(clip) p50 {fl['p50']} / p95 {fl['p95']} ms"
          f" (n={fl['n']}); CDP Page.captureScreenshot clip p50 {fc['p50']} / p95 {fc['p95']} ms")
    fs = summary["selenium_clip_screenshot_ms"]
    if fs["p50"]:
        print(f"  through Selenium (execute_cdp_cmd clip, ChromeDriver): p50 {fs['p50']} / p95 {fs['p95']} ms")
    limit = round(FIRST_VISIT_RATIO * fl["p50"], 2)
    print(f"first visit, pixel tiers (goal p50 <= {FIRST_VISIT_RATIO}x clip = {limit} ms, "
          f"p95 <= {FIRST_VISIT_P95_MS} ms):")
    for t in TIERS[1:]:
        for key, c in summary["pre_action_ms_by_tier"].items():
            if key.startswith(f"{t}/suite first visit"):
                own = fs["p50"] if key.endswith("selenium") and fs["p50"] else fl["p50"]
                ok = c["p50"] <= FIRST_VISIT_RATIO * own and c["p95"] <= FIRST_VISIT_P95_MS
                print(f"  {t:<16} {key.split('/', 1)[1]}: pre-action p50 {c['p50']} "
                      f"({round(c['p50'] / fl['p50'], 2)}x Playwright's clip, {round(c['p50'] / own, 2)}x its own "
                      f"browser's: the goal's baseline) / p95 {c['p95']} ms n={c['n']}  {'ok' if ok else 'MISSED'}")
        c = summary["pre_action_ms_by_tier"][f"{t}/first"]
        ok = c["p50"] <= limit and c["p95"] <= FIRST_VISIT_P95_MS
        print(f"  {t:<16} pre-action p50 {c['p50']} ({round(c['p50'] / fl['p50'], 2)}x) / p95 {c['p95']} ms "
              f"n={c['n']}  {'ok' if ok else 'MISSED'}  (click p50 {summary['first_visit_action_ms'][t]['p50']} ms, "
              f"bare {summary['first_visit_action_ms']['bare']['p50']} ms)")
    print("pre-action by tier (ms; fresh = remembered target on a new document, first = first visit, "
          "suite = actions without tools; p50 / p95):")
    for t in TIERS:
        cells = [summary["pre_action_ms_by_tier"][f"{t}/{ph}"] for ph in PHASES]
        print(f"  {t:<16} " + "  ".join(f"{ph} {c['p50']} / {c['p95']}" for ph, c in zip(PHASES, cells)))
    print("crop source    " + "  ".join(f"{k} {v}" for k, v in summary["crop_source"].items()))
    print("page capture   " + "  ".join(f"{k} {v}" for k, v in summary["page_capture"].items())
          + "   (with_action: requested before the action, proven copied before its first event)")
    print(f"scoring        p50 {sc['p50']} / p95 {sc['p95']} ms (in spans p95 {sc['in_spans_p95']}; goal p95 <= 5)")
    tp = summary["tool_precision"]
    print(f"tool precision {tp['precision']} over {tp['applications']} tool applications; "
          f"healed actions {summary['healed_actions']}; {summary['seconds']} s")
    print("failed under Arc: " + (", ".join(arc_failed) or "none"))
    fb = summary["fast_path_fallbacks"]
    print("fast paths     " + ("all on (no public fallback ran)" if not fb else
                               "public fallbacks ran: " + ", ".join(f"{k} x{n}" for k, n in fb.items())))
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
