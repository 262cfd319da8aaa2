"""One layer of patterns (a set of bundle files, or the runtime-registered patterns), stored
compactly and indexed so that a lookup evaluates only the few patterns that can match.

Cascade, cheapest first:
1. coarse Bloom filter of every ``field == value`` in any pattern: a request whose field values
   appear in no pattern is decided here (one hash + one Bloom probe per indexed field);
2. exact-key stage: patterns are grouped by the *shape* of their equality conditions (the sorted
   field names); for each shape whose fields all passed stage 1, the hash of the request's values
   is checked in the key Bloom filter and only then looked up in a sorted int64 key array
   through a directory of its top bits (about one key per directory slot);
3. predicate/fuzzy stage: the candidates' other conditions are evaluated. Patterns without
   equality conditions are anchored on the rarest words of their ``similar`` text (a
   ``FuzzyIndex`` per field), else on a field they require (a short list per field), else scanned.

Per pattern only fixed-size columns are kept (array/numpy, ~50 bytes a pattern all included);
the non-equality conditions and the fix are interned as "specs", serialised once in a blob and
compiled on demand through an LRU cache (compiled regexes and word sets are too big to keep for
1M patterns) into one generated matcher function each (``matcher.py``).

A builder produces ``LayerParts`` (flat columns, what a snapshot stores) and ``assemble`` turns
them into a Layer, for a fresh build and a snapshot alike.
"""

from __future__ import annotations

import functools
import json
import marshal
import time
from array import array
from collections import defaultdict
from collections.abc import Mapping
from itertools import count
from typing import Any

import numpy as np
from rbloom import Bloom

from ..llm.request import MISSING
from . import similarity
from .conditions import DEFAULT_THRESHOLD, TOP_FIELDS, compile_ops, field_getter, split, words_key
from .errors import PatternError
from .fixes import compile_fix
from .fuzzy import FuzzyIndex, FuzzyRows, build_columns
from .idtable import IdTable
from .keys import check_json_value, freeze
from .matcher import compile_matcher

KEY_FPR = 0.001
COARSE_FPR = 0.01
SPEC_CACHE_SIZE = 4096
SLICE = 100_000  # values per GIL-holding step of a gentle assemble
_INT32 = 2**31
_SCALARS = (str, int, float, bool)
_SIMILAR_KEYS = frozenset({"similar", "threshold"})
# one encoder instance: json.dumps with options builds a new encoder per call
_encode_spec = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
try:  # bulk loading keys specs by JSON text: msgspec encodes a small object ~5x faster than json
    import msgspec

    _encode_key, _decode_json = msgspec.json.encode, msgspec.json.decode
except ImportError:  # pragma: no cover - msgspec is a dependency; json gives the same results
    _encode_key = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode
    _decode_json = json.loads


class Spec:
    """A compiled (non-equality conditions, fix) pair, shared by every pattern that has it.
    ``matches(request, cache)`` is None when there is nothing left to check."""

    __slots__ = ("tests", "getters", "ops", "matches")

    def __init__(self, tests: list, ops: tuple, matcher: bool = True) -> None:
        self.tests = tests
        self.getters = {t.field: field_getter(t.field) for t in tests}
        self.ops = ops
        self.matches = compile_matcher(tests, self.getters) if matcher else None


def compile_spec(residual: Mapping | None, fix: Any, matcher: bool = True) -> Spec:
    """``matcher=False``: validate only (a build compiles thousands of specs that lookups compile
    again on demand; generating their matchers then would be paid for nothing)."""
    tests: list = []
    if residual:
        for field, ops in residual.items():
            tests.extend(compile_ops(field, ops, matcher))
    tests.sort(key=lambda t: t.cost)
    return Spec(tests, compile_fix(fix), matcher)


class Counters:
    """Hot-path counters; updated without a lock (a lost increment under contention is fine)."""

    __slots__ = ("probes", "positives", "false_positives")

    def __init__(self) -> None:
        self.probes = 0
        self.positives = 0
        self.false_positives = 0


class Layer:
    __slots__ = ("n", "ids", "spec_col", "priority", "confidence", "expires", "_spec_blob", "_spec_off",
                 "spec", "top_eq", "param_eq", "shapes", "coarse", "key_bloom", "keys", "kidx",
                 "exist", "scan", "fuzzy", "n_specs", "max_bucket", "parts", "directory", "dir_shift", "dir_half",
                 "matchers")

    def match(self, request: Any, word_cache: dict, counters: Counters, tombstones: frozenset) -> list:
        """Indexes of this layer's patterns whose conditions all hold for ``request``."""
        cands = self._candidates(request, word_cache, counters)
        if not cands:
            return cands
        out = []
        spec_col, matchers = self.spec_col, self.matchers
        for i in cands:
            if tombstones and i in tombstones:
                continue
            sid = spec_col[i]
            matches = matchers.get(sid, matchers)
            if matches is matchers:  # a plain dict in front of the LRU: cheaper per candidate
                if len(matchers) >= SPEC_CACHE_SIZE:
                    matchers.clear()
                matches = matchers[sid] = self.spec(sid).matches
            if matches is None or matches(request, word_cache):
                out.append(i)
        return out

    def _candidates(self, request: Any, word_cache: dict, counters: Counters) -> list:
        """Each pattern at most once: a pattern is indexed in one place (a key, an existence anchor,
        a fuzzy index or the scan list), and ``FuzzyIndex.query`` returns each pattern once."""
        out: list = []
        if self.shapes:
            coarse = self.coarse
            hashes = {}
            mask = 0
            # an element's hash: of (field, frozen value); ``freeze`` inlined for plain scalars
            for f, bit in self.top_eq:  # top-level view fields: None means absent
                v = getattr(request, f)
                if v is not None:
                    t = type(v)
                    h = hash((f, v if t is str or ((t is int or t is float) and v >= 0) else freeze(v)))
                    if h in coarse:
                        mask |= bit
                        hashes[f] = h
            param_eq = self.param_eq
            if param_eq:
                for f, v in request.params.items():
                    bit = param_eq.get(f)
                    if bit is not None:
                        t = type(v)
                        h = hash((f, v if t is str or ((t is int or t is float) and v >= 0) else freeze(v)))
                        if h in coarse:
                            mask |= bit
                            hashes[f] = h
            if mask:
                key_bloom = self.key_bloom
                for smask, fields in self.shapes:
                    if smask & mask == smask:
                        n = len(fields)  # the key: hash of the element hashes in shape order (``assemble``)
                        key = hash((hashes[fields[0]],) if n == 1 else (hashes[fields[0]], hashes[fields[1]])
                                   if n == 2 else tuple(map(hashes.__getitem__, fields)))
                        counters.probes += 1
                        if key in key_bloom:
                            self._found(key, out, counters)
        if self.exist:
            for getter, idxs in self.exist.values():
                if getter(request) is not MISSING:
                    out.extend(idxs)
        if self.fuzzy:
            for field, top, fuzzy in self.fuzzy:
                v = getattr(request, field) if top else request.params.get(field)
                if type(v) is str and len(v) < fuzzy.min_chars and v.isascii():
                    continue  # too few words for any pattern, known without splitting the text
                if type(v) is str or isinstance(v, str):
                    key = fuzzy.key
                    ws = word_cache.get(key)
                    if ws is None:
                        ws = word_cache[key] = similarity.words(v)
                    n = len(ws)  # the query's first checks, inline: most requests stop here
                    if n < fuzzy.min_words or n > fuzzy.max_words or len(fuzzy.known(ws)) < fuzzy.min_known[n]:
                        continue
                    out.extend(fuzzy.query(ws))
        if self.scan:
            out.extend(self.scan)
        return out

    def _found(self, key: int, out: list, counters: Counters) -> None:
        """Append the patterns whose key is ``key`` (which passed the key Bloom filter)."""
        counters.positives += 1
        keys = self.keys
        # the directory maps the key's top bits to its slice of the sorted keys (~1 key per slice):
        # two array reads instead of bisecting 1M keys (~20 scattered reads; benchmarks/RESULTS.md)
        b = (key >> self.dir_shift) + self.dir_half
        directory = self.directory
        j, end = directory[b], directory[b + 1]
        while j < end and keys[j] < key:
            j += 1
        if j == end or keys[j] != key:
            counters.false_positives += 1
            return
        kidx = self.kidx
        while j < end and keys[j] == key:
            out.append(kidx[j])
            j += 1

    def _load_spec(self, sid: int) -> Spec:
        raw = self._spec_blob[self._spec_off[sid]:self._spec_off[sid + 1]]
        residual, fix = json.loads(raw)
        return compile_spec(residual, fix)

    def spec_of(self, i: int) -> Spec:
        return self.spec(self.spec_col[i])

    def cache_info(self) -> Any:
        return self.spec.cache_info()


class LayerBuilder:
    """Builds a Layer from pattern records. ``add`` validates one pattern fully and stores it;
    ``bulk.add_bulk`` stores a bundle file's records column by column."""

    def __init__(self) -> None:
        self.ids: list = []
        self.spec_col = Column(np.int32)
        self.priority = Column(np.int32)
        self.confidence = Column(np.float64)
        self.expires = Column(np.float64)
        self.spec_ids: dict = {}
        self.spec_blob = bytearray()
        self.spec_off = array("Q", [0])
        self.spec_anchor: list = []  # per spec: ("similar", field, words, t) | ("exists", field) | ("scan",)
        # equality field names (in any order; ``parts`` merges the orders) →
        # ([pattern index], [one value column per field])
        self.shapes: dict = {}
        self.exist: dict = {}
        self.scan: list = []
        self.fuzzy: dict = {}

    def __len__(self) -> int:
        return len(self.spec_col)

    def add(self, pattern_id: str, pattern: Any, fix: Any, confidence: float, priority: int,
            expires: float) -> int:
        eq, sid, fuzzy = self.prepare(pattern, fix)
        i = len(self.spec_col)
        self.place(i, eq, sid, fuzzy)
        self.ids.append(pattern_id)
        self.spec_col.append(sid)
        self.priority.append(priority)
        self.confidence.append(confidence)
        self.expires.append(expires)
        return i

    def prepare(self, pattern: Any, fix: Any) -> tuple:
        """Validate ``pattern`` and ``fix``: (equality (field, frozen value) pairs, spec id, fuzzy
        anchor (field, words, threshold) of a pattern whose only condition is ``similar``, or None)."""
        if type(pattern) is not dict:
            if not isinstance(pattern, Mapping):
                raise PatternError(f"'pattern' must be an object, got {type(pattern).__name__}")
            pattern = dict(pattern)
        if not pattern:
            raise PatternError("'pattern' is empty: it would match every request")
        eq = []
        residual = None
        for field, cond in pattern.items():
            if type(field) is not str or not field:
                raise PatternError(f"field names must be non-empty strings, got {field!r}")
            has_eq, value, rest = split(field, cond)
            if has_eq:
                if value is not None and type(value) not in _SCALARS:
                    try:
                        check_json_value(value, f"field {field!r}")
                    except TypeError as exc:
                        raise PatternError(str(exc)) from None
                eq.append((field, freeze(value)))
            if rest is not None:
                if residual is None:
                    residual = {}
                residual[field] = rest
        fuzzy = None if eq else similar_only(residual)
        if fuzzy is not None:
            residual = None  # the FuzzyIndex decides the whole condition
        skey = repr((residual, fix))
        sid = self.spec_ids.get(skey)
        if sid is None:
            sid = self.new_spec(skey, residual, fix)
        return eq, sid, fuzzy

    def place(self, i: int, eq: list, sid: int, fuzzy: tuple | None) -> None:
        """Index pattern ``i``: under its equality key, its fuzzy text, or its spec's anchor."""
        if fuzzy is not None:
            self._add_fuzzy(i, *fuzzy)
        elif eq:
            eq.sort()
            self.add_equality_columns(tuple([x[0] for x in eq]), [i], [[x[1]] for x in eq])
        else:
            self._anchor(i, sid)

    def _add_fuzzy(self, i: int, field: str, words: frozenset, threshold: float) -> None:
        rows = self.fuzzy.get(field)
        if rows is None:
            rows = self.fuzzy[field] = FuzzyRows()
        rows.add(i, words, threshold)

    def _anchor(self, i: int, sid: int) -> None:
        anchor = self.spec_anchor[sid]
        if anchor[0] == "similar":
            self._add_fuzzy(i, anchor[1], anchor[2], anchor[3])
        elif anchor[0] == "exists":
            self.exist.setdefault(anchor[1], []).append(i)
        else:
            self.scan.append(i)

    # -- what ``bulk.add_bulk`` uses ---------------------------------------------------------------
    encode_key = staticmethod(_encode_key)
    decode_fix = staticmethod(_decode_json)

    def add_equality_columns(self, names: tuple, idxs: list, columns: list) -> None:
        """Patterns ``idxs`` whose equality values for the fields ``names`` are ``columns``
        (plain scalars: their own frozen form)."""
        rows = self.shapes.get(names)
        if rows is None:
            rows = self.shapes[names] = ([], [[] for _ in names])
        rows[0].extend(idxs)
        for col, values in zip(rows[1], columns):
            col.extend(values)

    def add_fuzzy_rows(self, field: str, idxs: list, thresholds: list, chunk: tuple) -> None:
        """Fuzzy patterns ``idxs`` on ``field``: their words coded as ``similarity.code_texts`` does."""
        rows = self.fuzzy.get(field)
        if rows is None:
            rows = self.fuzzy[field] = FuzzyRows()
        rows.add_coded(idxs, thresholds, chunk)

    @staticmethod
    def compile_similar(field: str, ops: Mapping) -> tuple:
        return _compiled_similar(field, ops)

    def new_spec(self, skey: Any, residual: dict | None, fix: Any) -> int:
        try:
            spec = compile_spec(residual, fix, matcher=False)
            raw = _encode_spec([residual, fix]).encode()
        except (ValueError, TypeError) as exc:
            raise PatternError(str(exc)) from None
        sid = len(self.spec_anchor)
        similar = [t for t in spec.tests if t.words is not None]
        presence = [t for t in spec.tests if t.check is not None or t.want]
        if similar:
            anchor: tuple = ("similar", similar[0].field, similar[0].words, similar[0].threshold)
        elif presence:
            anchor = ("exists", presence[0].field)
        else:
            anchor = ("scan",)
        self.spec_anchor.append(anchor)
        self.spec_blob += raw
        self.spec_off.append(len(self.spec_blob))
        self.spec_ids[skey] = sid
        return sid

    def finish(self) -> Layer:
        return assemble(self.parts())

    def parts(self) -> LayerParts:
        """The built columns (what ``assemble`` turns into a Layer and a snapshot stores); empties
        the builder as it goes so that peak memory stays low."""
        parts = LayerParts()
        parts.ids = IdTable.build(self.ids)
        self.ids = []
        parts.spec_col, parts.priority = self.spec_col.to_array("i"), self.priority.to_array("i")
        parts.confidence, parts.expires = self.confidence.to_array("d"), self.expires.to_array("d")
        parts.spec_blob, parts.spec_off = bytes(self.spec_blob), self.spec_off
        elements, parts.shapes = _equality_columns(self.shapes)
        parts.elements = marshal.dumps(elements)
        self.shapes = {}
        parts.exist = {f: np.array(idxs, dtype=np.int32) for f, idxs in self.exist.items()}
        parts.scan = np.array(self.scan, dtype=np.int32)
        parts.fuzzy = {}
        for field in list(self.fuzzy):
            parts.fuzzy[field] = build_columns(self.fuzzy.pop(field))
        self.spec_ids, self.spec_anchor, self.exist, self.scan = {}, [], {}, []
        return parts


def _equality_columns(variants: dict) -> tuple:
    """(elements, [(shape, pattern indexes, element ids)]): the distinct ``(field, value)``
    elements, and per shape (sorted field names) each pattern's element ids. ``variants`` maps
    field names in any order to (pattern indexes, one value column per field); it is emptied."""
    shapes: dict = {}
    for names in list(variants):
        idxs, columns = variants.pop(names)
        shape = tuple(sorted(names))
        cols = dict(zip(names, columns))
        merged = shapes.get(shape)
        if merged is None:
            shapes[shape] = (idxs, cols)
        else:
            merged[0].extend(idxs)
            for f in shape:
                merged[1][f].extend(cols[f])
    next_id = count().__next__
    ids_of: dict = {}  # field → {value: element id}, ids assigned on first sight (one lookup a value)
    out = []
    for shape in list(shapes):
        idxs, cols = shapes.pop(shape)
        eids = np.empty((len(shape), len(idxs)), dtype=np.int32)
        for k, field in enumerate(shape):
            column = cols.pop(field)
            ids = ids_of.get(field)
            if ids is None:
                ids = ids_of[field] = defaultdict(next_id)
            eids[k] = np.fromiter(map(ids.__getitem__, column), dtype=np.int32, count=len(column))
        out.append((shape, np.array(idxs, dtype=np.int32), eids))
    elements: list = [None] * next_id()  # the next id is the number of elements
    for field, ids in ids_of.items():
        for v, e in ids.items():
            elements[e] = (field, v)
    return elements, out


class Column:
    """A build-time column of numbers: scalars appended one by one (``add``), whole arrays at once
    (bulk loading), without a Python object per value in the latter case."""

    __slots__ = ("dtype", "chunks", "tail", "n")

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype
        self.chunks: list = []
        self.tail: list = []
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def append(self, value: Any) -> None:
        self.tail.append(value)
        self.n += 1

    def extend(self, values: Any) -> None:
        self._flush()
        values = np.asarray(values, dtype=self.dtype)
        self.chunks.append(values)
        self.n += len(values)

    def _flush(self) -> None:
        if self.tail:
            self.chunks.append(np.array(self.tail, dtype=self.dtype))
            self.tail = []

    def to_array(self, typecode: str) -> array:
        """The values as an ``array`` (fast scalar reads on the hot path); empties the column."""
        self._flush()
        values = np.concatenate(self.chunks) if self.chunks else np.empty(0, dtype=self.dtype)
        self.chunks, self.n = [], 0
        return array(typecode, values.tobytes())


class LayerParts:
    """A layer's content as plain columns: per pattern (id, spec, priority, confidence, expiry),
    the specs' JSON blob, the equality elements ``(field, frozen value)`` (a marshal blob) with,
    per shape, each pattern's element ids, the existence anchors, the scanned patterns and the
    fuzzy index columns. Only arrays and blobs: everything a Layer derives from them (hashes,
    sorted keys, Bloom filters) depends on Python's per-process string hash, so it is rebuilt by
    ``assemble`` rather than stored; and its small Python objects are all made by ``assemble``,
    after the bundle's parse tree is freed, so that they do not pin that memory (benchmarks/RESULTS.md)."""

    __slots__ = ("ids", "spec_col", "priority", "confidence", "expires", "spec_blob", "spec_off",
                 "elements", "shapes", "exist", "scan", "fuzzy")


def assemble(parts: LayerParts, gentle: bool = False, elements: list | None = None) -> Layer:
    """The Layer for ``parts`` (from a builder or a snapshot). ``gentle`` (a reload beside the
    app's requests): the whole-column hashing is done in slices, letting other threads take the
    GIL between them (one C-level pass over 1M values holds it for tens of ms)."""
    layer = Layer()
    layer.parts = None
    layer.n = len(parts.spec_col)
    layer.ids = parts.ids
    layer.spec_col, layer.priority = parts.spec_col, parts.priority
    layer.confidence, layer.expires = parts.confidence, parts.expires
    layer._spec_blob, layer._spec_off = parts.spec_blob, parts.spec_off
    layer.n_specs = len(parts.spec_off) - 1
    layer.spec = functools.lru_cache(maxsize=SPEC_CACHE_SIZE)(layer._load_spec)
    layer.matchers = {}
    layer.fuzzy = tuple((field, field in TOP_FIELDS, FuzzyIndex(cols, words_key(field)))
                        for field, cols in parts.fuzzy.items())

    # a pattern's key: the hash of its elements' hashes in shape order, as ``_candidates`` computes it
    if elements is None:  # ``elements``: the caller decoded ``parts.elements`` already
        elements = marshal.loads(parts.elements)
    element_hashes = _hashes(elements, gentle)
    del elements
    keys, kidx = [], []
    bits: dict = {}
    shapes = []
    for shape, idxs, eids in parts.shapes:
        if len(eids) != len(shape) or eids.shape[1] != len(idxs) or \
                (eids.size and not 0 <= int(eids.min()) <= int(eids.max()) < len(element_hashes)):
            raise ValueError("shape columns disagree")
        keys.append(_key_hashes(element_hashes, eids, gentle))
        kidx.append(idxs)
        smask = 0
        for f in shape:
            if f not in bits:
                bits[f] = 1 << len(bits)
            smask |= bits[f]
        shapes.append((smask, shape))
    np_keys = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
    order = np.argsort(np_keys, kind="stable")
    sorted_keys = np_keys[order]
    layer.keys = array("q", sorted_keys.tobytes())
    layer.directory, layer.dir_shift, layer.dir_half = _directory(sorted_keys)
    layer.kidx = array("i", (np.concatenate(kidx)[order] if kidx else np.empty(0, np.int32)).tobytes())
    starts = _run_starts(sorted_keys)
    layer.max_bucket = int(np.diff(np.append(starts, len(sorted_keys))).max()) if len(starts) else 0
    layer.key_bloom = _bloom(sorted_keys[starts], KEY_FPR, gentle)
    layer.coarse = _bloom(np.unique(element_hashes), COARSE_FPR, gentle)
    layer.shapes = tuple(shapes)
    layer.top_eq = tuple((f, b) for f, b in bits.items() if f in TOP_FIELDS)
    layer.param_eq = {f: b for f, b in bits.items() if f not in TOP_FIELDS}
    layer.exist = {f: (field_getter(f), tuple(idxs.tolist())) for f, idxs in parts.exist.items()}
    layer.scan = tuple(parts.scan.tolist())
    return layer


def similar_only(residual: dict | None) -> tuple | None:
    """(field, words, threshold) if ``residual`` is one ``similar`` condition and nothing else."""
    plain = _plain_similar(residual)
    if plain is not None:
        ws = similarity.words(plain[1])
        if ws:
            return plain[0], ws, plain[2]
    if residual is None or len(residual) != 1:
        return None
    (field, ops), = residual.items()
    if "similar" not in ops or not _SIMILAR_KEYS.issuperset(ops):
        return None
    return _compiled_similar(field, ops)


def _plain_similar(residual: dict | None) -> tuple | None:
    """(field, text, float threshold) if ``residual`` is one ``similar`` condition of the plain,
    valid form (the text may still have no words); None otherwise."""
    if residual is None or len(residual) != 1:
        return None
    (field, ops), = residual.items()
    if "similar" not in ops or not _SIMILAR_KEYS.issuperset(ops):
        return None
    text, threshold = ops["similar"], ops.get("threshold", DEFAULT_THRESHOLD)
    if type(text) is str and type(field) is str and field and type(threshold) in (int, float) \
            and 0.0 < threshold <= 1.0:
        return field, text, float(threshold)
    return None


def _compiled_similar(field: str, ops: Mapping) -> tuple:
    """(field, words, threshold) through the full compiler, which names any problem."""
    try:
        (test,) = compile_ops(field, ops)
    except ValueError as exc:
        raise PatternError(str(exc)) from None
    return field, test.words, test.threshold


def _directory(sorted_keys: np.ndarray) -> tuple:
    """(directory, shift, half): ``directory[b]`` is the first index of the sorted int64 keys whose
    top bits, ``(key >> shift) + half``, are >= b; about one key per slot (4 bytes a key)."""
    bits = max(1, int(len(sorted_keys)).bit_length())
    shift, half = 64 - bits, 1 << (bits - 1)
    slots = (sorted_keys >> shift) + half
    directory = np.searchsorted(slots, np.arange((1 << bits) + 1), side="left").astype(np.int64)
    return array("q", directory.tobytes()), shift, half


def _run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Indexes where a new value starts in a sorted array (its distinct values, without a sort)."""
    if not len(sorted_values):
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], sorted_values[1:] != sorted_values[:-1])))


def _slices(n: int, gentle: bool):
    """(start, stop) covering ``range(n)``: one slice, or with ``gentle`` slices of ``SLICE`` with a
    GIL hand-over (``sleep(0)`` releases it) before each but the first."""
    if not gentle:
        yield 0, n
        return
    for start in range(0, n, SLICE):
        if start:
            time.sleep(0)
        yield start, min(n, start + SLICE)


def _hashes(values: list, gentle: bool) -> np.ndarray:
    """Python's hash of each value, as int64 (per process: string hashes are randomized)."""
    out = np.empty(len(values), dtype=np.int64)
    for a, b in _slices(len(values), gentle):
        out[a:b] = np.fromiter(map(hash, values[a:b]), dtype=np.int64, count=b - a)
    return out


def _key_hashes(element_hashes: np.ndarray, eids: np.ndarray, gentle: bool) -> np.ndarray:
    """Each pattern's key: the hash of the tuple of its elements' hashes, in shape order."""
    n = eids.shape[1]
    out = np.empty(n, dtype=np.int64)
    for a, b in _slices(n, gentle):
        columns = [element_hashes[e].tolist() for e in eids[:, a:b]]
        out[a:b] = np.fromiter(map(hash, zip(*columns)), dtype=np.int64, count=b - a)
    return out


def _bloom(values: np.ndarray, fpr: float, gentle: bool = False) -> Bloom:
    bloom = Bloom(max(len(values), 1), fpr)
    for a, b in _slices(len(values), gentle):
        bloom.update(values[a:b].tolist())
    return bloom


def check_priority(value: Any) -> int:
    if type(value) is not int or not -_INT32 <= value < _INT32:
        raise PatternError(f"'priority' must be an integer in [-2^31, 2^31), got {value!r}")
    return value
