"""Index for ``similar`` conditions of patterns that have no equality condition (one per field).

Candidates come from prefix filtering (see ``similarity``): words are ranked by how many
pattern texts contain them (rarest first, rank = token id); each pattern is posted under its
first few token ids, a request probes its first few. The candidates are then verified all at
once with numpy on a padded (patterns × WIDTH) token-id matrix: exact Jaccard against each
pattern's own threshold, a few numpy operations for all candidates instead of compiling each
candidate's condition (benchmarks/RESULTS.md). Texts longer than WIDTH words are verified one by one.
The verdict is final: a pattern whose only condition is ``similar`` needs no further check.
"""

from __future__ import annotations

import threading
from array import array
from math import ceil

import numpy as np

from . import similarity

WIDTH = 32
_EPS = 1e-9


# the flat columns a FuzzyIndex is made of (what a snapshot stores), with their dtypes
COLUMNS = {"patterns": np.int32, "thresholds": np.float64, "sizes": np.int64, "tokens": np.uint32,
           "post_off": np.int64, "post_rows": np.int32, "long_rows": np.int32, "long_off": np.int64,
           "long_ids": np.int64}


class FuzzyRows:
    """Build-time rows of one field's fuzzy patterns: pattern indexes, thresholds and their words
    as coded chunks (``similarity.code_rows`` layout); words added one pattern at a time wait in
    ``pending`` (``word_rows`` layout) until the next chunk."""

    __slots__ = ("idxs", "thresholds", "chunks", "pending")

    def __init__(self) -> None:
        self.idxs: list = []
        self.thresholds: list = []
        self.chunks: list = []
        self.pending: list = []

    def add(self, i: int, words: frozenset, threshold: float) -> None:
        self.idxs.append(i)
        self.pending.extend(words)
        self.pending.append(similarity.ROW_END)
        self.thresholds.append(threshold)

    def add_coded(self, idxs: list, thresholds: list, chunk: tuple) -> None:
        """Patterns ``idxs`` whose words are ``chunk`` (``code_rows``/``code_texts`` output)."""
        self._flush()
        self.idxs.extend(idxs)
        self.thresholds.extend(thresholds)
        self.chunks.append(chunk)

    def _flush(self) -> None:
        if self.pending:
            self.chunks.append(similarity.code_rows(self.pending))
            self.pending = []

    def coded(self) -> tuple:
        """(vocabulary in alphabetical order, per-word code, per-word row) of all rows."""
        self._flush()
        vocab = sorted(set().union(*[c[0] for c in self.chunks]))
        code_of = dict(zip(vocab, range(len(vocab))))
        codes, rows, base = [], [], 0
        for words, chunk_codes, row_of, n_rows in self.chunks:
            remap = np.fromiter(map(code_of.__getitem__, words), dtype=np.int64, count=len(words))
            codes.append(remap[chunk_codes])
            rows.append(row_of + base)
            base += n_rows
        if base != len(self.idxs):
            raise ValueError("fuzzy rows disagree with their patterns")
        if not codes:
            return vocab, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return vocab, np.concatenate(codes), np.concatenate(rows)


def build_columns(rows: FuzzyRows) -> dict:
    """The columns for the patterns of ``rows``: plus ``words``, the vocabulary in rank order
    (rarest first, ties alphabetical) as one space-joined UTF-8 blob. A handful of whole-array
    operations, no per-pattern Python loop; only numpy arrays and one blob: the index's small
    Python objects are made later by ``FuzzyIndex``, once the bundle's parse tree is gone, so
    that they do not pin its memory arenas."""
    idxs, thresholds = rows.idxs, rows.thresholds
    m = len(idxs)
    t = np.array(thresholds, dtype=np.float64)
    alphabet, code, row_of = rows.coded()
    vocab = len(alphabet)
    span = max(vocab, 1)
    # (row, word) pairs, each once, sorted by row then word: one sort of a combined key
    pairs = np.sort(row_of * span + code)
    del code, row_of
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs
    row_of, alpha = pairs // span, pairs % span
    del pairs
    sizes = np.bincount(row_of, minlength=m).astype(np.int64)
    order = np.argsort(np.bincount(alpha, minlength=vocab), kind="stable")  # rank → word
    rank = np.empty(vocab, dtype=np.int64)
    rank[order] = np.arange(vocab)
    ids = np.sort(row_of * span + rank[alpha]) % span  # every row's token ids, sorted within the row
    total = len(ids)
    starts = np.cumsum(sizes) - sizes
    col = np.arange(total) - np.repeat(starts, sizes)
    tokens = np.full((m, WIDTH), vocab, dtype=np.uint32)  # vocab = padding, matches no word
    short = sizes <= WIDTH
    keep = (col < WIDTH) & np.repeat(short, sizes)
    tokens[row_of[keep], col[keep]] = ids[keep]
    long_rows = np.flatnonzero(~short)
    long_take = np.repeat(~short, sizes)
    long_off = np.zeros(len(long_rows) + 1, dtype=np.int64)
    np.cumsum(sizes[long_rows], out=long_off[1:])
    # postings: (token id, row) for each row's prefix (its rarest words), grouped by token id
    prefix = sizes - np.ceil(t * sizes - _EPS).astype(np.int64) + 1
    in_prefix = col < np.repeat(prefix, sizes)
    tok, row = ids[in_prefix], row_of[in_prefix]
    by_token = np.argsort(tok, kind="stable")
    off = np.zeros(vocab + 2, dtype=np.int64)
    np.cumsum(np.bincount(tok, minlength=vocab + 1), out=off[1:])
    return {"words": " ".join([alphabet[j] for j in order.tolist()]).encode("utf-8", "surrogatepass"),
            "patterns": np.array(idxs, dtype=np.int32), "thresholds": t, "sizes": sizes, "tokens": tokens,
            "post_off": off, "post_rows": row[by_token].astype(np.int32),
            "long_rows": long_rows.astype(np.int32), "long_off": long_off, "long_ids": ids[long_take]}


class FuzzyIndex:
    __slots__ = ("key", "rank", "t_min", "post_off", "post_rows", "tokens", "sizes", "thresholds", "patterns",
                 "long_rows", "long_words", "need", "_local", "_vocab", "known", "min_words", "max_words",
                 "min_chars", "min_known")

    def __init__(self, columns: dict, key: object = None) -> None:
        self.key = key  # of the request field's word set in the per-request cache
        text = columns["words"].decode("utf-8", "surrogatepass")
        words = text.split(" ") if text else []
        self.rank = dict(zip(words, range(len(words))))
        # membership of the request's words in C (a frozenset costs ~40 bytes a word: only for the
        # vocabularies of up to 2**18 words; bigger ones use the rank dict, which costs more per word)
        self.known = frozenset(words).intersection if len(words) <= 1 << 18 else self._known_words
        self._vocab = vocab = len(words)
        self.patterns, self.thresholds = columns["patterns"], columns["thresholds"]
        self.sizes, self.tokens = columns["sizes"], columns["tokens"]
        m = len(self.patterns)
        if not (len(self.thresholds) == len(self.sizes) == m and self.tokens.shape == (m, WIDTH)):
            raise ValueError("fuzzy index columns disagree")
        self.post_off = array("q", np.ascontiguousarray(columns["post_off"], dtype=np.int64).tobytes())
        self.post_rows = columns["post_rows"]
        if len(self.post_off) != vocab + 2:
            raise ValueError("fuzzy index postings disagree with its vocabulary")
        self.t_min = float(self.thresholds.min()) if m else 1.0
        # J(R, P) >= t needs t·|P| <= |R| <= |P|/t (a little slack for the verification's epsilon):
        # requests with fewer or more distinct words than any pattern allows have no candidate, and
        # an ASCII text shorter than ``min_chars`` has fewer than ``min_words`` words (a word and a
        # separator per two characters), which the lookup sees before splitting it
        self.min_words = int(np.ceil(self.thresholds * self.sizes - 1e-3).min()) if m else 1
        self.max_words = min(int(np.floor(self.sizes / self.thresholds + 1e-3).max()) if m else 0,
                             (similarity.MAX_CHARS + 1) // 2)  # no text has more words
        self.min_chars = 2 * self.min_words - 1
        # per request word count n <= max_words: the fewest of its words that must be known for
        # Jaccard >= t_min (``query``'s prefix is empty below that)
        self.min_known = tuple(ceil(self.t_min * n - _EPS) for n in range(self.max_words + 1))
        long_off, long_ids = columns["long_off"].tolist(), columns["long_ids"].tolist()
        self.long_words = {r: frozenset(words[t] for t in long_ids[long_off[k]:long_off[k + 1]])
                           for k, r in enumerate(columns["long_rows"].tolist())}
        self.long_rows = frozenset(self.long_words)
        # J >= t  <=>  |R∩P| >= t/(1+t) * (|R| + |P|): per row (t/(1+t), t/(1+t)*|P|) in one gather
        a = self.thresholds / (1.0 + self.thresholds)
        self.need = np.stack([a, a * self.sizes], axis=1)
        self._local = threading.local()

    def _known_words(self, ws: frozenset) -> list:
        return [w for w in ws if w in self.rank]

    def query(self, ws: frozenset) -> list:
        """Indexes of the patterns whose text is similar enough to the words ``ws`` (each once)."""
        n = len(ws)
        if not self.min_words <= n <= self.max_words:
            return []
        # J(R, P) >= t also needs |R ∩ P| >= t·|R|: with fewer than ceil(t_min·|R|) of the request's
        # words in any pattern (the common case) nothing can match; counted in C, before any ranking.
        # Equivalently: the prefix of R to probe (its rarest words, those no pattern has first, for
        # Jaccard >= t_min; the build computes it per pattern the same way) has no known word
        known = len(self.known(ws))
        probes = known - self.min_known[n] + 1
        if not known or probes <= 0:
            return []
        ids = [i for i in map(self.rank.get, ws) if i is not None]
        ids.sort()
        off, post = self.post_off, self.post_rows
        parts = [post[off[t]:off[t + 1]] for t in ids[:probes]]
        rows = np.concatenate(parts) if len(parts) > 1 else parts[0]  # repeats: deduplicated below
        if not len(rows):
            return []
        lut = getattr(self._local, "lut", None)
        if lut is None:  # one membership table per thread: no lock, no per-request allocation
            lut = self._local.lut = np.zeros(self._vocab + 1, dtype=np.bool_)
        lut[ids] = True
        try:
            inter = lut[self.tokens[rows]].sum(axis=1)
        finally:
            lut[ids] = False
        need = self.need[rows]
        ok = inter >= need[:, 0] * n + need[:, 1] - _EPS
        out = self.patterns[rows[ok]].tolist()
        if len(parts) > 1 and len(out) > 1:  # a row posted under several probed words (long rows never pass here)
            out = list(dict.fromkeys(out))
        if self.long_rows:
            for r in set(rows.tolist()) & self.long_rows:
                if similarity.jaccard(ws, self.long_words[r]) >= self.thresholds[r] - _EPS:
                    out.append(int(self.patterns[r]))
        return out

