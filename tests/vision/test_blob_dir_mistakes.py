"""``full_data`` with an ``ARC_BLOB_DIR`` that cannot be written (here a file in the way): one warning
naming the variable, the user's click goes through, and its span keeps everything but the blob keys
(the write error used to drop every attribute of the span)."""

from __future__ import annotations

import logging

from arc_agent.vision import attributes as A

from .conftest import attrs


def test_unwritable_blob_dir_is_named_and_spans_keep_their_attributes(tmp_path, page, site, spans, vision_env):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    vision_env(ARC_PRIVACY_MODE="full_data", ARC_BLOB_DIR=str(in_the_way))
    records: list = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("arc").addHandler(handler)
    try:
        page.goto(site.url("none"))
        page.click("#target")
        page.click("#target")
    finally:
        logging.getLogger("arc").removeHandler(handler)
    assert page.evaluate("window.__flaky.clicks.length") == 2
    got = [attrs(s) for s in spans()]
    assert [(a[A.SELECTOR], a[A.SUCCESS], a[A.PRIVACY_TIER]) for a in got] == [("#target", True, "full_data")] * 2
    assert all(A.BLOB_KEY not in a and A.PAGE_BLOB_KEY not in a for a in got)
    assert all(a.get(A.CONFIDENCE_BEFORE) is not None for a in got)
    warned = [r.getMessage() for r in records if "ARC_BLOB_DIR" in r.getMessage()]
    assert len(warned) == 1 and warned[0].startswith(f"arc: ARC_BLOB_DIR={in_the_way} cannot be used (")
