"""The per-action flow, written once: observe → (tools) → act → (heal) → one ``ui.<action>`` span.

``run_sync`` / ``run_async`` are what the integrations call from their wrappers. Arc's steps are
each guarded (``failopen.record``); the user's call runs exactly once unless it failed and healing
retried it, and when healing does not succeed the original exception object is re-raised.

Page pixels (hash_only and up) describe the page as the action found it. Normally the viewport is
captured before the action. When the target was scored from its remembered crop (``recall.py``:
found in exactly the state of its last confident capture; Playwright on Chromium, actions that start
with Playwright's stability check), the capture is requested just before the action is handed to
Playwright and awaited after it, overlapping Chromium's ~2-frame capture wait with the action. Once
the image is back, the page reports whether any event that can change pixels (pointer, key, focus,
input, scroll) reached it since the probe (``js.CAPTURED_CLEAN``): only an image proven copied before
every event of the action, in the same document, is used (``arc.vision.page_capture`` =
``with_action``); else the span carries no hashes or blobs for the action (``skipped``). The proven
image also re-scores the remembered crop, so one that no longer looks confident is forgotten.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from opentelemetry.trace import Status, StatusCode

from .. import failopen
from . import attributes as A
from . import policy, privacy
from . import settings as vision_settings
from .driver import ACTIVE, Outcome, UserCall, drive_async, drive_sync
from .healing import Healed, fingerprints, heal
from .observe import Look, Stats, attach_capture, observe, safe
from .telemetry import tracer

_ERROR = Status(StatusCode.ERROR)


def _error_type(exc: BaseException) -> str:
    return type(exc).__qualname__


def action_flow(target, settings):
    """Generator (see ``driver.py``) returning the action's result or raising its original error."""
    tier = settings.privacy_tier
    # page hashes need the viewport (JPEG decodes to gray faster than PNG); blobs keep it lossless
    want_page = ("png" if privacy.at_least(tier, "full_data") else "jpeg" if privacy.at_least(tier, "hash_only")
                 else None)
    stats = Stats()
    attrs: dict = {A.FRAMEWORK: target.framework, A.ACTION: target.action, A.SELECTOR: target.selector,
                   A.PRIVACY_TIER: tier}
    span = None
    try:
        span = tracer().start_span("ui." + target.action)
    except Exception as exc:
        failopen.record("vision.span", exc)

    t0 = time.perf_counter()
    first: Optional[Look] = None
    look: Optional[Look] = None
    pending: Any = None
    snapshot: Optional[str] = None
    capture_mode: Optional[str] = None
    try:
        first = look = yield from observe(target, stats, want_page)
        if want_page == "png" and look.conf is not None and look.conf < settings.threshold:
            snapshot = yield from _snapshot(target)
        if look.conf is not None:
            look = yield from policy.run(target, stats, look, want_page, settings, attrs)
        start = target.capture_with_action(look.probe, want_page == "png") if look.deferred else None
        if start is not None:
            pending = yield from safe(start)
    except Exception as exc:
        failopen.record("vision.pre_action", exc)
    pre_ms = (time.perf_counter() - t0) * 1000.0

    error: Optional[BaseException] = None
    result: Any = None
    try:
        result = yield UserCall(target.call())
    except BaseException as exc:  # noqa: B036 - handed back unchanged below
        error = exc

    if look is not None and look.deferred:
        try:
            taken = (yield from safe(target.finish_capture(pending))) if pending is not None else None
            if taken is not None:
                attach_capture(target, look, taken, want_page)
            capture_mode = "with_action" if taken is not None else "skipped"
        except Exception as exc:
            failopen.record("vision.capture", exc)
            capture_mode = "skipped"
    elif look is not None and want_page:
        capture_mode = "before_action"

    url = (look.probe or {}).get("url") if look is not None else None
    healed: Optional[Healed] = None
    if error is not None and isinstance(error, Exception) and settings.heal:
        try:
            if target.healable(error):
                healed = yield from heal(target, settings, stats, url, want_page, error)
        except Exception as exc:
            failopen.record("vision.heal", exc)

    ok = error is None or healed is not None
    if want_page == "png" and snapshot is None and (not ok or healed is not None):
        try:
            snapshot = yield from _snapshot(target)
        except Exception as exc:
            failopen.record("vision.snapshot", exc)
    try:
        if ok and error is None and look is not None:
            _remember(target, settings, look, url)
        if capture_mode == "skipped":
            look.img = None  # the remembered crop scored the target; hashes describe only proven pixels
        _describe(attrs, settings, look, first, stats, pre_ms, url, ok, error, healed)
        _describe_state(attrs, settings, first, stats, ok, healed, snapshot)
        attrs[A.PAGE_CAPTURE] = capture_mode
        if span is not None:
            span.set_attributes(privacy.filter_attributes(tier, attrs))
            if not ok:
                span.set_status(_ERROR)
    except Exception as exc:
        failopen.record("vision.span", exc)
    finally:
        if span is not None:
            span.end()
    if not ok:
        raise error
    return healed.result if healed is not None else result


SNAPSHOT_MAX_CHARS = 2_000_000


def _snapshot(target):
    """Generator: the page's serialized DOM (full_data only), or None when unavailable or too big."""
    op = target.snapshot()
    text = (yield from safe(op)) if op is not None else None
    return text if isinstance(text, str) and len(text) <= SNAPSHOT_MAX_CHARS else None


def _describe_state(attrs: dict, settings, first: Optional[Look], stats: Stats, ok: bool,
                    healed: Optional[Healed], snapshot: Optional[str]) -> None:
    """What a replay of this action needs (``training_ray/states.py``): failure mechanics, the time
    the target took to get ready, the model features, and in full_data the DOM snapshot."""
    from .features import mechanics

    mech = mechanics(first.probe) if first is not None else []
    if healed is not None and healed.strategy == "fingerprint":
        mech.append("relocated")
    elif healed is not None and healed.strategy == "relocate":
        mech.append("detached")
    attrs[A.MECHANICS] = mech
    ready_ms = stats.ready_ms
    if ready_ms is None and ok:  # ready within the library's own actionability wait: an upper bound
        ready_ms = (time.perf_counter() - stats.t0) * 1000.0
    attrs[A.READY_MS] = round(ready_ms, 1) if ready_ms is not None else None
    if first is not None and first.feats:
        attrs[A.FEATURES] = [round(float(f), 4) for f in first.feats]
    if snapshot is not None:
        from .blobstore import BlobStore

        attrs[A.SNAPSHOT_KEY] = BlobStore(settings.blob_dir).put_html(snapshot)


def _remember(target, settings, look: Look, url: Optional[str]) -> None:
    """Record the target's fingerprint at this successful action, for healing later."""
    fp = (look.probe or {}).get("fp")
    if not (fp and url and target.selector):
        return
    from .fingerprint import Fingerprint
    from .imaging import phash_hex

    elem = look.element_img()
    fingerprints(settings).put(url, target.selector,
                               Fingerprint.from_js(fp, phash_hex(elem) if elem is not None else ""))


def _describe(attrs: dict, settings, look: Optional[Look], first: Optional[Look], stats: Stats,
              pre_ms: float, url: Optional[str], ok: bool, error: Optional[BaseException],
              healed: Optional[Healed]) -> None:
    tier = settings.privacy_tier
    attrs[A.URL] = url
    attrs[A.SUCCESS] = ok
    attrs[A.HEALED] = healed is not None
    if error is not None:
        attrs[A.ERROR_TYPE] = _error_type(error)
    if healed is not None:
        attrs[A.HEAL_STRATEGY] = healed.strategy
        attrs[A.HEALED_SELECTOR] = healed.selector
        attrs[A.HEAL_SCORE] = round(healed.score, 4) if healed.score is not None else None
    probe = (look.probe if look is not None else None) or {}
    if probe.get("vw"):
        attrs[A.VIEWPORT] = [int(probe["vw"]), int(probe["vh"])]
    if probe.get("rect"):
        attrs[A.BBOX] = [int(round(v)) for v in probe["rect"]]
    if probe:
        attrs[A.ELEMENT_VISIBLE] = bool(probe.get("visible"))
    attrs[A.PRE_ACTION_MS] = round(pre_ms, 3)  # computed in every tier; the tier filter decides
    attrs[A.TOOLS] = list(stats.tools)
    attrs[A.CROP_SOURCE] = first.source if first else None
    if privacy.at_least(tier, "local_inference"):
        attrs[A.CONFIDENCE_BEFORE] = round(first.conf, 4) if first and first.conf is not None else None
        attrs[A.CONFIDENCE_AFTER] = round(look.conf, 4) if look and look.conf is not None else None
        attrs[A.TOOL_MS] = round(stats.tool_ms, 3)
        attrs[A.INFERENCE_MS] = round(stats.inference_ms, 3)
        attrs[A.MODEL_VERSION] = first.model_version if first else None
    if look is not None and privacy.at_least(tier, "hash_only"):
        from .imaging import phash_hex

        if look.page_img is not None:
            attrs[A.PAGE_PHASH] = phash_hex(look.page_img)
        elem = look.element_img()
        if elem is not None:
            attrs[A.ELEMENT_PHASH] = phash_hex(elem)
    if look is not None and privacy.at_least(tier, "full_data"):
        from .blobstore import BlobStore
        from .imaging import crop_color, png_bytes

        store = BlobStore(settings.blob_dir)
        if look.page_png is not None and look.region is not None:
            attrs[A.BLOB_KEY] = store.put_png(png_bytes(crop_color(look.page_png, look.region, look.px)))
        if look.page_png is not None:
            attrs[A.PAGE_BLOB_KEY] = store.put_png(look.page_png)


def run_sync(target, call):
    """Entry point for sync wrappers: the whole flow, fail-open."""
    if ACTIVE.get():
        return call()
    try:
        flow = action_flow(target, vision_settings.current())
    except Exception as exc:
        failopen.record("vision.flow", exc)
        return call()
    token = ACTIVE.set(True)
    try:
        return drive_sync(flow, Outcome(), call)
    finally:
        ACTIVE.reset(token)


async def run_async(target, call):
    if ACTIVE.get():
        return await call()
    try:
        flow = action_flow(target, vision_settings.current())
    except Exception as exc:
        failopen.record("vision.flow", exc)
        return await call()
    token = ACTIVE.set(True)
    try:
        return await drive_async(flow, Outcome(), call)
    finally:
        ACTIVE.reset(token)
