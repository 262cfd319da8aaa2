"""Generate the element-confidence training set from the project's own flaky site, with Ray.

Each Ray task drives one headless Chromium (Playwright, Debian's /usr/bin/chromium) through a
seeded list of (scenario, delay, viewport) page loads, and samples targets while the flakiness
resolves. A sample is exactly what the agent computes before an action (``arc_agent.vision.observe``
itself: same probe, crop, capture format and features; normal and zoomed crops) plus a label: did
Playwright's own actionability check (``click(trial=True)``) pass within a short timeout. Samples taken while the
page's flakiness flipped (``__flaky.settled`` differs before and after) are ambiguous and dropped.

    python training_ray/vision_confidence_data.py --out build/vision_data/data.npz --loads 264 --seed 7
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TARGETS = ("#target", "#name", "#agree", "#size", "#later", "#cookie-accept")
VIEWPORTS = ((1000, 720), (800, 600), (1280, 800), (600, 900))
TRIAL_TIMEOUT_MS = 200


def plan(loads: int, seed: int) -> list:
    """The seeded list of page loads: (scenario, delay ms, run, viewport, sample seed)."""
    from tests.fixtures.flaky_site import SCENARIOS

    rng = random.Random(seed)
    names = ("none",) + SCENARIOS
    out = []
    for i in range(loads):
        scenario = names[i % len(names)]
        out.append((scenario, rng.randint(300, 2500), rng.choice(("1", "2")), rng.choice(VIEWPORTS),
                    rng.randrange(1 << 30)))
    return out


def _run(flow):
    """Drive an agent flow generator synchronously (its ops are plain Playwright sync calls)."""
    send = None
    while True:
        try:
            op = flow.send(send)
        except StopIteration as stop:
            return stop.value
        send = op()


def _sample(page, selector: str, zoomed: bool):
    """(image uint8 [64, 64], features) from the agent's own observation code, so training sees
    exactly what the agent scores (same probe, crop region, capture format, features)."""
    from arc_agent.vision import imaging
    from arc_agent.vision.observe import Stats, observe
    from arc_agent.vision.pw_target import PlaywrightTarget

    target = PlaywrightTarget("click", None, page.locator(selector), (), {}, shortcut=False)
    look = _run(observe(target, Stats(), None, zoom=zoomed, fresh=True))
    arr = imaging.model_input(look.img)[0, 0]
    return (arr * 255).round().astype("uint8"), look.feats


def _actionable(page, selector: str) -> bool:
    try:
        page.locator(selector).first.click(trial=True, timeout=TRIAL_TIMEOUT_MS)
        return True
    except Exception:
        return False


def collect(base_url: str, loads: list, max_samples_per_load: int = 6) -> dict:
    """Ray task body: drive one browser through ``loads``; returns arrays as lists."""
    from urllib.parse import urlencode

    from playwright.sync_api import sync_playwright

    images, feats, labels, meta = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for scenario, delay, run, (vw, vh), seed in loads:
            rng = random.Random(seed)
            page = browser.new_page(viewport={"width": vw, "height": vh})
            page.goto(f"{base_url}/?{urlencode({'s': scenario, 'd': delay, 'run': run})}")
            if rng.random() < 0.3:
                page.evaluate("y => window.scrollTo(0, y)", rng.randint(0, 2600))
            t_end = time.monotonic() + (delay + 600) / 1000.0
            taken = 0
            while taken < max_samples_per_load and time.monotonic() < t_end + 0.3:
                page.wait_for_timeout(rng.randint(40, 400))
                for selector in rng.sample(TARGETS, 2):
                    before = page.evaluate("() => window.__flaky.settled")
                    zoomed = rng.random() < 0.35
                    img, f = _sample(page, selector, zoomed)
                    label = _actionable(page, selector)
                    after = page.evaluate("() => window.__flaky.settled")
                    if before != after:
                        continue
                    images.append(img.tolist())
                    feats.append(f)
                    labels.append(1.0 if label else 0.0)
                    meta.append(f"{scenario}|{selector}|{delay}|{int(zoomed)}")
                taken += 1
            page.close()
        browser.close()
    return {"images": images, "features": feats, "labels": labels, "meta": meta}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "vision_data", "data.npz"))
    parser.add_argument("--loads", type=int, default=264, help="page loads in total")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="parallel Ray tasks (one browser each)")
    args = parser.parse_args(argv)

    import numpy as np
    import ray

    from tests.fixtures.flaky_site import FlakySite

    loads = plan(args.loads, args.seed)
    shards = [loads[i::args.workers] for i in range(args.workers)]
    t0 = time.time()
    with FlakySite() as site:
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
                 _temp_dir=os.path.join("/tmp", "arc_ray"), runtime_env={"env_vars": {"PYTHONPATH": ROOT}})
        try:
            task = ray.remote(num_cpus=1)(collect)
            parts = ray.get([task.remote(site.base, shard) for shard in shards])
        finally:
            ray.shutdown()
    data = {k: [x for part in parts for x in part[k]] for k in ("images", "features", "labels", "meta")}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez_compressed(args.out, images=np.asarray(data["images"], dtype=np.uint8),
                        features=np.asarray(data["features"], dtype=np.float32),
                        labels=np.asarray(data["labels"], dtype=np.float32),
                        meta=np.asarray(data["meta"]), seed=args.seed, loads=args.loads)
    labels = np.asarray(data["labels"])
    print(f"wrote {args.out}: {len(labels)} samples, {labels.mean():.2f} positive, "
          f"{time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
