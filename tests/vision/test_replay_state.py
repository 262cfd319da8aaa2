"""A low-confidence action's span carries what a replay needs (``training_ray/states.py``): failure
mechanics and ready time in every tier, model features from hash_only, a DOM snapshot in the blob
store only in full_data."""

from __future__ import annotations

import os

from arc_agent.vision import attributes as A
from arc_agent.vision.blobstore import BlobStore
from arc_agent.vision.features import FEATURES

from .conftest import attrs


def test_mechanics_ready_time_features_and_snapshot_by_tier(page, site, spans, vision_env, tmp_path):
    for tier in ("minimal", "hash_only", "full_data"):
        settings = vision_env(ARC_PRIVACY_MODE=tier)
        spans.clear()
        page.goto(site.url("late_render", d=1500))  # long enough for the first probe to find nothing
        page.click("#target", timeout=8000)
        got = attrs(spans()[-1])
        assert list(got[A.MECHANICS]) == ["absent"] and 0 < got[A.READY_MS] < 8000, (tier, got)
        assert (len(got.get(A.FEATURES, ())) == len(FEATURES)) == (tier != "minimal"), tier
        assert (A.SNAPSHOT_KEY in got) == (tier == "full_data"), tier
    html = BlobStore(settings.blob_dir).get_html(got[A.SNAPSHOT_KEY])
    assert "Flaky shop" in html and os.path.isdir(settings.blob_dir)
