"""One test per privacy tier: no attribute beyond the tier is exported, and nothing is written to
disk below ``full_data`` (every file opened for writing by this process is recorded with an audit
hook while the actions run)."""

from __future__ import annotations

import hashlib
import os
import sys

import pytest

from arc_agent.vision import attributes as A
from arc_agent.vision.privacy import ALLOWED

from .conftest import attrs

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_writes: list = []
_armed: list = []


def _audit(event: str, args) -> None:
    if not _armed or event != "open" or len(args) < 3:
        return
    path, mode, flags = args[0], args[1], args[2]
    if isinstance(path, int):  # os.fdopen of a descriptor whose opening was already recorded
        return
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & _WRITE_FLAGS)
    if writing and not str(path).endswith((".pyc", ".pyc.tmp")) and "__pycache__" not in str(path):
        _writes.append(str(path))


sys.addaudithook(_audit)

TIER_ONLY = {
    "minimal": set(),
    "hash_only": {A.PAGE_PHASH, A.ELEMENT_PHASH},
    "local_inference": {A.PAGE_PHASH, A.ELEMENT_PHASH, A.CONFIDENCE_BEFORE, A.CONFIDENCE_AFTER, A.TOOLS,
                        A.TOOL_MS, A.INFERENCE_MS, A.MODEL_VERSION},
    "full_data": {A.PAGE_PHASH, A.ELEMENT_PHASH, A.CONFIDENCE_BEFORE, A.BLOB_KEY, A.PAGE_BLOB_KEY},
}


def _actions(page, site) -> None:
    page.goto(site.url("changed_id", run=1))
    page.fill("#name", "Ada Lovelace")
    page.click("#target")
    page.goto(site.url("changed_id", run=2))
    page.click("#target", timeout=300)  # healed from the fingerprint


@pytest.mark.parametrize("tier", ("minimal", "hash_only", "local_inference", "full_data"))
def test_tier_exports_only_its_attributes(page, site, spans, vision_env, tmp_path, tier):
    blob_dir = tmp_path / "blobs"
    vision_env(ARC_PRIVACY_MODE=tier, ARC_BLOB_DIR=str(blob_dir))
    page.goto(site.url("none"))
    page.click("#later")  # warm-up: first-use imports happen before the audit window
    spans.clear()
    _writes.clear()
    _armed.append(True)
    try:
        _actions(page, site)
    finally:
        _armed.clear()
    got = [attrs(s) for s in spans()]
    assert len(got) == 3 and got[-1][A.HEALED] is True
    for a in got:
        assert set(a) <= ALLOWED[tier], set(a) - ALLOWED[tier]
        assert a[A.PRIVACY_TIER] == tier
        assert not any("Ada" in str(v) for v in a.values())  # typed text never exported
    exported = set().union(*got)
    assert TIER_ONLY[tier] <= exported
    beyond = {A.PAGE_PHASH, A.CONFIDENCE_BEFORE, A.BLOB_KEY} - ALLOWED[tier]
    assert not (beyond & exported)

    if tier != "full_data":
        assert _writes == [] and not blob_dir.exists()
        return
    assert _writes and all(w.startswith(str(blob_dir)) for w in _writes)
    assert all(A.PAGE_BLOB_KEY in a for a in got) and A.BLOB_KEY in got[0]
    for a in got:
        for key in filter(None, (a.get(A.BLOB_KEY), a[A.PAGE_BLOB_KEY])):
            path = blob_dir / key[:2] / f"{key}.png"
            data = path.read_bytes()
            assert hashlib.sha256(data).hexdigest() == key and data.startswith(b"\x89PNG")
    assert (blob_dir / "fingerprints.jsonl").exists()  # healing across runs: full_data only
