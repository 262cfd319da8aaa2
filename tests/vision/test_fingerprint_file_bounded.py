"""The full_data fingerprint file (healing across runs) stays bounded: a suite whose pages change
appends on every run, and the file is rewritten from the in-memory LRU past twice its capacity,
keeping the newest fingerprints for the next process."""

from __future__ import annotations

import os
import stat

from arc_agent.vision.fingerprint import Fingerprint, FingerprintStore


def _lines(path) -> int:
    with open(path, encoding="utf-8") as fh:
        return sum(1 for _ in fh)


def test_file_is_compacted_and_keeps_the_newest(tmp_path):
    path = tmp_path / "blobs" / "fingerprints.jsonl"
    for run in range(5):  # five "runs" (processes), each seeing changed pages
        store = FingerprintStore(capacity=10, path=str(path))
        for i in range(30):
            store.put(f"https://shop.example/p{i % 15}", "#buy", Fingerprint(tag="button", text=f"run {run} #{i}"))
        assert _lines(path) <= 20
    again = FingerprintStore(capacity=10, path=str(path))
    assert again.get("https://shop.example/p14", "#buy").text == "run 4 #29"
    assert again.get("https://shop.example/p0", "#buy") is None  # fell out of the LRU (not recent)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_big_file_from_an_older_version_is_compacted_on_load(tmp_path):
    path = tmp_path / "fingerprints.jsonl"
    old = FingerprintStore(capacity=1000, path=str(path))
    for i in range(100):
        old.put(f"https://shop.example/{i}", "#buy", Fingerprint(tag="button", text=str(i)))
    assert _lines(path) == 100
    store = FingerprintStore(capacity=10, path=str(path))
    assert store.get("https://shop.example/99", "#buy").text == "99"
    assert _lines(path) == 10
