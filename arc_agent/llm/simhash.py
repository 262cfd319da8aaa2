"""A 64-bit SimHash of a text over word 3-shingles: similar system prompts get nearby fingerprints,
so failure patterns can be mined over prompts without keeping any text.

Pure and deterministic across processes and machines (blake2b, never Python's salted ``hash()``).
Cost is linear in the words (bounded by ``MAX_WORDS``); the call path caches fingerprints by text.
"""

from __future__ import annotations

import re
from collections import Counter
from hashlib import blake2b

MAX_WORDS = 8192  # words fingerprinted; the rest of a longer text is ignored (bounded cost)
SHINGLE = 3
_WORD = re.compile(r"\w+")
_FIELD = 16  # bits per counter in the spread table below (MAX_WORDS < 2**16)
_MASK = (1 << _FIELD) - 1
# byte value -> its 8 bits spread into 8 counters of _FIELD bits: adding spread values counts the bits
_SPREAD = tuple(sum(((b >> j) & 1) << (j * _FIELD) for j in range(8)) for b in range(256))


def words(text: str) -> list:
    return _WORD.findall(text.lower(), 0)[:MAX_WORDS]


def simhash64(text: str) -> int:
    """The fingerprint as an int (0 for a text without words)."""
    ws = words(text)
    if not ws:
        return 0
    if len(ws) < SHINGLE:
        shingles = [" ".join(ws)]
    else:
        shingles = [" ".join(ws[i:i + SHINGLE]) for i in range(len(ws) - SHINGLE + 1)]
    digests = b"".join(blake2b(s.encode("utf-8"), digest_size=8).digest() for s in shingles)
    n = len(shingles)
    value = 0
    for k in range(8):  # byte k of every digest: count each bit over all shingles at C speed
        counts = 0
        for byte, times in Counter(digests[k::8]).items():
            counts += _SPREAD[byte] * times
        for j in range(8):
            if 2 * ((counts >> (j * _FIELD)) & _MASK) > n:  # set in more than half of the shingles
                value |= 1 << (k * 8 + j)
    return value


def fingerprint(text: str) -> str:
    """16 hex digits of ``simhash64`` ("" for a text without words)."""
    return format(simhash64(text), "016x") if _WORD.search(text) else ""


def distance(a: str, b: str) -> int:
    """Hamming distance of two hex fingerprints."""
    return bin(int(a, 16) ^ int(b, 16)).count("1")
