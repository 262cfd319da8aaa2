"""Fuzzy ``similar``: Jaccard similarity of the sets of lowercase words of two texts.

Candidates among many fuzzy patterns are found with *prefix filtering* (Chaudhuri et al. 2006,
the candidate step of AllPairs/PPJoin) instead of MinHash LSH: order every word by how many
pattern texts contain it (rarest first); if J(R, P) >= t then R and P share a word among the
first |R| - ceil(t·|R|) + 1 words of R and among the first |P| - ceil(t·|P|) + 1 words of P.
So each pattern is indexed under its few rarest words and a request probes its few rarest
words: exact (no missed match, unlike LSH) and cheap. On the benchmark mix at 100k patterns,
MinHash LSH (our vectorised numpy MinHash, 8 bands × 4 rows) cost far more per request that has a
prompt, even when nothing matches, and so did datasketch's MinHash per signature
(benchmarks/RESULTS.md). The verdict is always the exact Jaccard
value, computed on the candidates only.
"""

from __future__ import annotations

import re
from typing import Iterable

import numpy as np

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


def code_rows(rows: list) -> tuple:
    """(vocabulary, per-word vocabulary index, per-word row, number of rows) of words in the
    ``word_rows`` layout: one dict lookup per word."""
    seen: dict = {}  # word → position of its first occurrence: one C-level call per word
    ids = np.fromiter(map(seen.setdefault, rows, range(len(rows))), dtype=np.int64, count=len(rows))
    code_of = np.empty(len(rows), dtype=np.int64)
    code_of[np.fromiter(seen.values(), dtype=np.int64, count=len(seen))] = np.arange(len(seen))
    codes = code_of[ids]
    vocab = list(seen)  # in first-seen order, as the codes
    end_code = vocab.index(ROW_END) if ROW_END in seen else -1
    end = codes == end_code
    n_rows = int(end.sum())
    row_of = (np.cumsum(end) - end)[~end]
    codes = codes[~end]
    if end_code >= 0:  # ROW_END is not a word
        del vocab[end_code]
        codes -= codes > end_code
    return vocab, codes, row_of, n_rows


# masks of a word's first k bytes in a little-endian uint64, k = 0..8
_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_WIDE = 16  # words up to this many bytes are compared as two uint64; longer ones through a dict


def code_texts(texts: list) -> tuple:
    """``code_rows`` of the texts' ``words`` (row k = texts[k]). ASCII texts are split with whole-
    array operations on their bytes (no Python string per word, so far less time for many prompts):
    each word's first 16 bytes as two integers, grouped with one sort, verified exactly (a group
    whose members differ falls back to the dict path)."""
    joined = "\x00".join([t[:MAX_CHARS] for t in texts])
    if not texts or not joined.isascii() or joined.count(ROW_END) != len(texts) - 1:
        return code_rows(word_rows(texts))
    text = b"\x00" + joined.encode("ascii").translate(_ASCII_WORDS_NUL) + b"\x00" * (_WIDE + 1)
    buf = np.frombuffer(text, dtype=np.uint8)
    is_word = buf > 32  # word bytes are letters, digits, "_"; separators are 0 (between texts) or 32
    starts = np.flatnonzero(is_word[1:] & ~is_word[:-1]) + 1
    ends = np.flatnonzero(is_word[:-1] & ~is_word[1:]) + 1
    per_row = np.searchsorted(starts, np.flatnonzero(buf[:len(text) - _WIDE - 1] == 0))  # words before each NUL
    row_of = np.repeat(np.arange(len(texts)), np.diff(np.append(per_row, len(starts))))
    lengths = ends - starts
    # each word's first 16 bytes as two little-endian integers (unaligned 8-byte reads)
    words8 = np.ndarray(shape=(len(buf) - 8,), dtype="<u8", buffer=text, strides=(1,))
    lo = words8[starts] & _BYTE_MASKS[np.minimum(lengths, 8)]
    hi = words8[starts + 8] & _BYTE_MASKS[np.clip(lengths - 8, 0, 8)]
    long_words = np.flatnonzero(lengths > _WIDE)
    if len(long_words):  # rare: ids from a dict, marked by a high half no ASCII word has
        seen: dict = {}
        s, e = starts[long_words].tolist(), ends[long_words].tolist()
        lo[long_words] = np.fromiter(map(seen.setdefault, map(text.__getitem__, map(slice, s, e)), range(len(s))),
                                     dtype=np.uint64, count=len(s))
        hi[long_words] = np.uint64(2**64 - 1)
    with np.errstate(over="ignore"):
        mixed = lo * np.uint64(0x9E3779B97F4A7C15) ^ (hi + np.uint64(0x632BE59BD9B4E019)) * \
            np.uint64(0xBF58476D1CE4E5B9)
    codes = _dense_codes(mixed)
    first = np.empty(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
    first[codes] = np.arange(len(codes))  # a representative occurrence of each distinct value
    if not (np.array_equal(lo[first][codes], lo) and np.array_equal(hi[first][codes], hi)):
        return code_rows(word_rows(texts))  # two different words mixed to the same integer
    decoded = text.decode("ascii")  # starts/ends index ``text``
    vocab = [decoded[a:b] for a, b in zip(starts[first].tolist(), ends[first].tolist())]
    return vocab, codes, row_of, len(texts)


def _dense_codes(values: np.ndarray) -> np.ndarray:
    """Each value's index among the sorted distinct ``values``: one (SIMD) sort of the values, then
    a direct-address table on their top bits instead of a binary search per value (the few that
    share a slot are searched)."""
    distinct = np.sort(values)
    if len(distinct):
        distinct = distinct[np.concatenate(([True], distinct[1:] != distinct[:-1]))]
    bits = min(max(int(len(distinct)).bit_length() + 6, 8), 26)
    shift = np.uint64(64 - bits)
    table = np.zeros(1 << bits, dtype=np.int64)
    table[distinct >> shift] = np.arange(len(distinct))
    codes = table[values >> shift]
    if len(distinct):
        wrong = np.flatnonzero(distinct[codes] != values)
        codes[wrong] = np.searchsorted(distinct, values[wrong])
    return codes


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)

