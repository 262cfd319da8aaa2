"""Capture reuse: a viewport capture serves later targets only while nothing changed near them."""

from __future__ import annotations

from arc_agent.vision.shots import ShotCache


def probe(doc="d1", rects=(), all_changed=False, sy=0):
    return {"sx": 0, "sy": sy, "vw": 1000, "vh": 720, "dpr": 1,
            "changes": {"doc": doc, "all": all_changed, "rects": [list(r) for r in rects]}}


def test_reuse_until_a_change_touches_the_region():
    cache = ShotCache()
    cache.store(probe(), b"jpeg", "img", 1.0, lossless=False)
    near, far = (100, 100, 80, 40), (600, 500, 80, 40)
    assert cache.reusable(probe(), near, False) is not None
    cache.note(probe(rects=[(150, 130, 200, 30)]))  # something changed over the first target
    assert cache.reusable(probe(), near, False) is None
    assert cache.reusable(probe(), far, False) is not None


def test_no_reuse_after_scroll_full_change_other_document_or_lossless_request():
    cache = ShotCache()
    cache.store(probe(), b"jpeg", "img", 1.0, lossless=False)
    region = (100, 100, 80, 40)
    assert cache.reusable(probe(sy=10), region, False) is None
    assert cache.reusable(probe(doc="d2"), region, False) is None
    assert cache.reusable(probe(), region, True) is None  # full_data wants a lossless capture
    cache.note(probe(all_changed=True))
    assert cache.reusable(probe(), region, False) is None
