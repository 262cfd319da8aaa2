"""Playwright async API under Arc: same flow, same spans, correct parents under asyncio concurrency."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio
from opentelemetry import trace
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from arc_agent.vision import attributes as A

from .conftest import CHROMIUM, CHROMIUM_ARGS, MAX_VISITS, VIEWPORT, attrs, check_capture_modes, taken_with_action

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def abrowser():
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest_asyncio.fixture(loop_scope="module")
async def apage(abrowser):
    context = await abrowser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    yield page
    await context.close()


async def test_async_actions_yield_one_span_each(apage, site, spans):
    await apage.goto(site.url("none"))
    await apage.fill("#name", "Ada")
    await apage.locator("#agree").check()
    assert await apage.locator("#size").select_option("M") == ["M"]
    await apage.locator("#name").press_sequentially("Ada")
    await apage.click("#target")
    assert await apage.text_content("#result") == "ordered for AdaAda"
    got = spans()
    assert [s.name for s in got] == ["ui.fill", "ui.check", "ui.select_option", "ui.press_sequentially",
                                     "ui.click"]
    assert all(attrs(s)[A.SUCCESS] is True and attrs(s)[A.FRAMEWORK] == "playwright" for s in got)


@pytest.mark.parametrize("scenario", ("late_render", "spinner", "moving", "cookie_banner"))
async def test_async_flaky_target_passes(apage, site, spans, scenario):
    await apage.goto(site.url(scenario, d=900))
    await apage.locator("#target").click(timeout=300)
    assert await apage.text_content("#result") == "ordered"
    assert attrs(spans()[0])[A.SUCCESS] is True


async def test_async_changed_id_heals_and_failure_is_original(apage, site, spans, vision_env):
    await apage.goto(site.url("changed_id", run=1))
    await apage.click("#target")
    await apage.goto(site.url("changed_id", run=2))
    await apage.click("#target", timeout=300)
    a = attrs(spans()[-1])
    assert a[A.HEALED] is True and a[A.HEALED_SELECTOR] == "#place-order-v2"
    vision_env(ARC_HEAL="0")
    with pytest.raises(PlaywrightTimeout, match="Page.click: Timeout 300ms exceeded"):
        await apage.click("#nothing-here", timeout=300)


async def test_concurrent_actions_parent_to_their_own_task_span(abrowser, site, spans):
    tracer = trace.get_tracer("test")
    contexts = [await abrowser.new_context(viewport=VIEWPORT) for _ in range(3)]
    try:
        pages = [await c.new_page() for c in contexts]

        async def step(i: int, page):
            with tracer.start_as_current_span(f"step-{i}") as parent:
                await page.goto(site.url("late_render", d=200 * (i + 1)))
                await page.locator("#target").click(timeout=300)
                await page.locator("#later").click()
                return parent.get_span_context().span_id

        parents = await asyncio.gather(*(step(i, p) for i, p in enumerate(pages)))
    finally:
        for c in contexts:
            await c.close()
    got = spans()
    assert len(got) == 6
    for parent_id in parents:
        assert sum(1 for s in got if s.parent is not None and s.parent.span_id == parent_id) == 2


async def test_async_framed_target_gets_a_main_page_box_and_heals(apage, site, spans, vision_env):
    vision_env(ARC_VISION_WAIT_MS="300")

    async def open_framed(run):
        await apage.goto(site.url("framed", inner="changed_id", run=run))
        await apage.wait_for_function("window.__flaky.settled")

    target = apage.frame_locator("#shop").locator("#target")
    await open_framed(1)
    box = await target.bounding_box()
    await target.click()
    await open_framed(2)
    await target.click(timeout=300)
    assert await apage.frame(name="shop").text_content("#result") == "ordered"
    first, healed = (attrs(s) for s in spans())
    assert abs(first[A.BBOX][0] - box["x"]) <= 1 and abs(first[A.BBOX][1] - box["y"]) <= 1
    assert healed[A.HEALED] is True and healed[A.HEALED_SELECTOR].endswith("#place-order-v2")


async def test_async_pixel_tier_takes_the_pixels_with_the_action(apage, site, spans, vision_env):
    vision_env(ARC_PRIVACY_MODE="local_inference")
    for visit in range(1, MAX_VISITS + 1):
        await apage.goto(site.url("none"))
        await apage.locator("#target").click()
        assert await apage.text_content("#result") == "ordered"
        got = [attrs(s) for s in spans()]
        if visit >= 2 and taken_with_action(got):
            break
    check_capture_modes(got)
