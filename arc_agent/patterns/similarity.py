"""Fuzzy ``similar``: Jaccard similarity of the sets of lowercase words of two texts.

Candidates among many fuzzy patterns are found with *prefix filtering* (Chaudhuri et al. 2006,
the candidate step of AllPairs/PPJoin) instead of MinHash LSH: order every word by how many
pattern texts contain it (rarest first); if J(R, P) >= t then R and P share a word among the
first |R| - ceil(t·|R|) + 1 words of R and among the first |P| - ceil(t·|P|) + 1 words of P.
So each pattern is indexed under its few rarest words and a request probes its few rarest
words: exact (no missed match, unlike LSH) and cheap. Measured on the benchmark mix at 100k
patterns, MinHash LSH (our vectorised numpy MinHash, 8 bands × 4 rows) cost ~30 µs per request
that has a prompt, even when nothing matches (non-matching p99 49 µs), and datasketch's MinHash
~35 µs per signature; the prefix probe costs a few µs. The verdict is always the exact Jaccard
value, computed on the candidates only.
"""

from __future__ import annotations

import math
import re
from typing import Iterable

MAX_CHARS = 8192  # characters of a text that similarity looks at (bounds the per-request cost)
_WORD = re.compile(r"\w+")
_EPS = 1e-9
# ASCII fast path, same words as ``\w+`` on lowercased text: one C-level byte translation maps
# A-Z to a-z and every non-word byte to a space, then split (about half the cost of the regex)
_ASCII_WORDS = bytes((c + 32 if 65 <= c <= 90 else c) if chr(c).isalnum() or c == 95 else 32
                     for c in range(128)) + b" " * 128

ROW_END = "\x00"  # ends a text's words in ``word_rows``: never part of a word
_ASCII_WORDS_NUL = b"\x00" + _ASCII_WORDS[1:]  # the same table, keeping NUL


def words(text: str) -> frozenset:
    text = text[:MAX_CHARS]
    if text.isascii():
        return frozenset(text.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split())
    return frozenset(_WORD.findall(text.lower()))


def word_rows(texts: list) -> list:
    """The ``words`` of every text as one flat list, each text's words followed by ``ROW_END``
    (a word may repeat within a text). ASCII texts are joined, translated and split in a few C
    calls instead of a few per text (bundle loading does this for 100k+ texts)."""
    joined = " \x00 ".join([t[:MAX_CHARS] for t in texts]) + " \x00"
    if joined.isascii() and joined.count(ROW_END) == len(texts):
        return joined.encode("ascii").translate(_ASCII_WORDS_NUL).decode("ascii").split()
    return rows_of_sets(map(words, texts))


def rows_of_sets(word_sets: Iterable) -> list:
    """Word sets in the ``word_rows`` layout."""
    out: list = []
    for ws in word_sets:
        out.extend(ws)
        out.append(ROW_END)
    return out


def has_words(text: str) -> bool:
    text = text[:MAX_CHARS]
    return _WORD.search(text) is not None if text.isascii() else bool(words(text))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def prefix_length(size: int, threshold: float) -> int:
    """How many of a set's rarest words must be indexed/probed for Jaccard >= threshold."""
    return size - math.ceil(threshold * size - _EPS) + 1
