"""``PatternEngine``: the fixer the core calls on every intercepted LLM request.

Readers (``fix``) take one reference to the current immutable ``Snapshot`` and no lock; writers
(load, reload, register, unregister) build a new snapshot off to the side and swap it in with one
assignment, so a request sees the old set or the new set, never a mix. A rejected bundle leaves
the previous set active.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Mapping
from time import perf_counter_ns
from typing import Any, Callable, Iterable

from .. import failopen, settings
from ..llm.fixer import FixOutcome
from ..llm.request import LLMRequest
from ..telemetry import attributes as A
from . import startup
from .apply import Draft
from .bundle import (
    REGISTRY_PREFIX,
    BundleErrors,
    check_confidence,
    load_layer,
    parse_expires,
    release_free_memory,
    split_paths,
)
from .errors import BundleError, PatternError
from .index import KEY_FPR, Counters, Layer, LayerBuilder, check_priority
from .sets import load_set
from .snapshot import SnapshotPolicy
from .watch import Watcher, signature

log = logging.getLogger("arc")

DEFAULT_THRESHOLD = 0.5
DEFAULT_POLL_SECONDS = 2.0
LOW_CONFIDENCE, EXPIRED, CONFLICT = "low_confidence", "expired", "conflict"
# one encoder instance: json.dumps with non-default options builds a new encoder per call
_json_encode = json.JSONEncoder(ensure_ascii=False, default=repr).encode
try:  # msgspec: an order of magnitude cheaper for a small changes object (benchmarks/RESULTS.md)
    import msgspec

    _msgspec_encode = msgspec.json.Encoder(enc_hook=repr).encode
except ImportError:  # pragma: no cover - msgspec is a dependency
    _msgspec_encode = None


def _encode_json(value: Any) -> str:
    """``arc.fix.changes`` as JSON text (values that are not JSON as their repr)."""
    if _msgspec_encode is not None:
        try:
            return _msgspec_encode(value).decode("utf-8")
        except Exception:  # e.g. an int beyond 64 bits: the json module takes it
            pass
    return _json_encode(value)


class Snapshot:
    """An immutable pattern set: layers (bundles, then runtime-registered) and removed indexes."""

    __slots__ = ("layers", "tombstones", "version", "total")

    def __init__(self, layers: tuple, tombstones: tuple, version: str) -> None:
        self.layers = layers
        self.tombstones = tombstones
        self.version = version
        self.total = sum(layer.n - len(t) for layer, t in zip(layers, tombstones))


_EMPTY_LAYER = LayerBuilder().finish()


class PatternEngine:
    """Pattern store + fixer. ``active`` is False while no pattern is loaded."""

    def __init__(self, paths: Iterable[str] | None = None, threshold: float = DEFAULT_THRESHOLD,
                 poll_interval: float = DEFAULT_POLL_SECONDS, clock: Callable[[], float] = time.time,
                 snapshot: SnapshotPolicy | None = None) -> None:
        self.threshold = float(threshold)
        self.snapshot = SnapshotPolicy() if snapshot is None else snapshot
        self.poll_interval = float(poll_interval)
        self._clock = clock
        self._write_lock = threading.RLock()
        self._paths: list = []
        self._bundles: tuple = ()  # one Layer per compiled file, one for the JSON/YAML bundles
        self._loading: threading.Event | None = None  # while a background load runs; set when it ends
        self._pending_paths: list = []
        self._infos: list = []
        self._seen: tuple = ()
        self._runtime_records: dict = {}
        self._runtime: Layer = _EMPTY_LAYER
        self._removed: set = set()
        self._watcher: Watcher | None = None
        self._fork_hooked = False
        self._counters = Counters()
        self._outcomes: Counter = Counter()
        self.last_error: str | None = None
        self.load_seconds: float | None = None
        self.loaded_at: float | None = None
        self._snap = Snapshot((), (), "")
        self.active = False
        if paths:
            self.load(list(paths))

    # -- configuration -----------------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, background: bool = False) -> PatternEngine:
        """``ARC_PATTERNS=PATH[:PATH...]`` (``demo`` = the shipped demo bundle, ``registry:NAME[@CHANNEL]``
        = a registry channel, followed on every poll), ``ARC_FIX_THRESHOLD``
        (default 0.5), ``ARC_PATTERNS_POLL`` (seconds between file checks, 0 = no hot reload),
        ``ARC_PATTERNS_SNAPSHOT`` (``off``, or the directory for load snapshots; see ``snapshot``).
        ``background``: a set that does not load quickly (``startup.loads_quickly``) is loaded by a
        thread; calls meanwhile are reported as skipped (``loading``)."""
        env = os.environ if environ is None else environ
        engine = cls(threshold=settings.number("ARC_FIX_THRESHOLD", env),
                     poll_interval=settings.number("ARC_PATTERNS_POLL", env),
                     snapshot=SnapshotPolicy.from_env(env))
        paths = [p for p in split_paths(settings.text("ARC_PATTERNS", env) or "") if p.strip()]
        if paths and background and not startup.loads_quickly(paths):
            engine.load_in_background(paths)
        elif paths:
            engine.load(paths)
        return engine

    # -- loading -------------------------------------------------------------------------------------
    def load(self, paths: Iterable[str] | str, replace: bool = False, gentle: bool = False) -> list:
        """Add bundle files/directories (JSON/YAML or compiled) to the loaded set (``replace``: load
        only these) and rebuild it. Returns the errors (empty on success); on error the previous
        set stays active and the errors are logged. ``gentle``: see ``index.assemble``."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        with self._write_lock:
            merged = [] if replace else list(self._paths)
            for p in paths:
                p = os.fspath(p)
                if p not in merged:
                    merged.append(p)
            errors = self._build_bundles(merged, current=False, gentle=gentle)
            following = bool(errors) and not self._paths and any(p.startswith(REGISTRY_PREFIX) for p in merged)
            if following:  # a registry channel not set (or not valid) yet: the watcher picks it up when it is
                self._paths, self._seen = merged, signature(merged)
        if (not errors or following) and self._paths and self.poll_interval > 0:
            self.start_watching()
        return errors

    def load_in_background(self, paths: list) -> None:
        """``load(paths)`` in a thread; until it ends, ``fix`` reports calls as skipped (``loading``),
        or waits for it within ``ARC_PATTERNS_WAIT_MS``."""
        done = threading.Event()
        with self._write_lock:
            self._pending_paths = list(paths)  # before ``_loading``: a child forked now reloads these
            self._loading = done
            self.active = True
            self._hook_fork()

        def run() -> None:
            try:
                self.load(paths, gentle=True)
            except Exception as exc:  # load() reports bundle errors itself; this is a bug
                failopen.record("patterns_load", exc)
            finally:
                with self._write_lock:
                    if self._loading is done:
                        self._loading = None
                        self._publish()
                done.set()

        threading.Thread(target=run, name="arc-patterns-load", daemon=True).start()

    @property
    def loading(self) -> bool:
        """True while a background load runs."""
        return self._loading is not None

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait for a background load to end; True if none is running (any more)."""
        done = self._loading
        return done is None or done.wait(timeout)

    def reload(self) -> list:
        """Re-read the loaded bundle files now (what the watcher does on a change)."""
        with self._write_lock:
            if not self._paths:
                return []
            return self._build_bundles(list(self._paths), current=True)

    def _build_bundles(self, paths: list, current: bool, gentle: bool = False) -> list:
        if not paths:
            self._paths, self._bundles, self._infos, self._seen = [], (), [], ()
            self._publish()
            return []
        seen = signature(paths)  # taken before reading: a write during the read is seen next poll
        t0 = time.perf_counter()
        gentle = gentle or current  # beside the app's requests: hold the GIL in short stretches
        try:
            loader = functools.partial(load_layer, gentle=True) if gentle else load_layer
            layers, infos = load_set(paths, self.snapshot, loader, gentle)
        except Exception as exc:  # BundleErrors, or a bug/MemoryError: the app must never see it
            errors = list(exc.errors) if isinstance(exc, BundleErrors) else \
                [BundleError(",".join(paths), f"internal error while loading: {exc!r}")]
            if not isinstance(exc, BundleErrors):
                failopen.record("patterns_load", exc)
            if current:
                self._seen = seen
            self.last_error = "\n".join(str(e) for e in errors)
            kept = self._bundle_count()
            outcome = (f"the previous pattern set ({kept} patterns) stays active" if kept else
                       "no pattern set is active, calls are sent unfixed until a bundle loads")
            log.error("arc: pattern bundle rejected; %s:\n%s", outcome, self.last_error)
            return errors
        self._paths, self._bundles, self._infos, self._seen = paths, layers, infos, seen
        self.load_seconds = time.perf_counter() - t0
        self.loaded_at = time.time()
        self.last_error = None
        self._publish()
        del layers
        release_free_memory()
        log.info("arc: loaded %d patterns from %d bundle file(s) in %.2f s", self._bundle_count(), len(infos),
                 self.load_seconds)
        return []

    def _bundle_count(self) -> int:
        return sum(layer.n for layer in self._bundles)

    def _in_bundles(self, pattern_id: str) -> bool:
        return any(layer.ids.find(pattern_id) is not None for layer in self._bundles)

    # -- runtime registration --------------------------------------------------------------------------
    def register(self, pattern: Mapping, fix: Mapping, id: str | None = None, confidence: float = 1.0,
                 priority: int = 0, ttl: float | None = None, expires_at: Any = None,
                 description: str | None = None) -> str:
        """Add (or replace, same id) a pattern now; returns its id. PatternError on bad input."""
        confidence = check_confidence(confidence)
        check_priority(priority)
        if description is not None and not isinstance(description, str):
            raise PatternError(f"'description' must be a string, got {description!r}")
        if ttl is not None and expires_at is not None:
            raise PatternError("give either 'ttl' or 'expires_at', not both")
        if ttl is not None:
            if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl <= 0:
                raise PatternError(f"'ttl' must be a positive number of seconds, got {ttl!r}")
            expires = self._clock() + ttl
        else:
            expires = parse_expires(expires_at)
        LayerBuilder().add("check", pattern, fix, confidence, priority, expires)  # validates
        if id is None:
            canon = json.dumps([pattern, fix], sort_keys=True, default=repr)
            id = "rt-" + hashlib.sha1(canon.encode()).hexdigest()[:12]
        elif not isinstance(id, str) or not id:
            raise PatternError(f"'id' must be a non-empty string, got {id!r}")
        with self._write_lock:
            records = dict(self._runtime_records)
            records.pop(id, None)
            records[id] = (pattern, fix, confidence, priority, expires)
            self._runtime = _build_runtime(records)
            self._runtime_records = records
            if self._in_bundles(id):
                self._removed.add(id)  # the registered pattern replaces the bundle's
            self._publish()
        return id

    def unregister(self, pattern_id: str) -> bool:
        """Remove a pattern (registered or from a bundle; a bundle's stays removed on reload)."""
        with self._write_lock:
            found = False
            if pattern_id in self._runtime_records:
                records = dict(self._runtime_records)
                del records[pattern_id]
                self._runtime = _build_runtime(records)
                self._runtime_records = records
                found = True
            if pattern_id not in self._removed and self._in_bundles(pattern_id):
                self._removed.add(pattern_id)
                found = True
            if found:
                self._publish()
            return found

    def _publish(self) -> None:
        layers, tombs = [], []
        for layer in self._bundles:
            if layer.n:
                layers.append(layer)
                tombs.append(frozenset(i for i in (layer.ids.find(r) for r in self._removed) if i is not None))
        if self._runtime.n:
            layers.append(self._runtime)
            tombs.append(frozenset())
        labels = [info.label for info in self._infos]
        if self._runtime.n:
            labels.append("runtime")
        snap = Snapshot(tuple(layers), tuple(tombs), ",".join(labels))
        self._snap = snap  # the one atomic swap readers see
        self.active = snap.total > 0 or self._loading is not None

    # -- hot reload ---------------------------------------------------------------------------------------
    def start_watching(self, interval: float | None = None) -> None:
        """Start the file watcher (a daemon thread polling mtimes) if bundles are loaded."""
        with self._write_lock:
            if self._watcher is not None and self._watcher.alive:
                return
            if not self._paths:
                return
            self._watcher = Watcher(interval or self.poll_interval or DEFAULT_POLL_SECONDS,
                                    lambda: self._seen, lambda: list(self._paths), self.reload)
            self._watcher.start()
            self._hook_fork()

    def _hook_fork(self) -> None:
        if not self._fork_hooked:  # threads do not survive fork (uvicorn/gunicorn workers)
            self._fork_hooked = True
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _after_fork(ref))

    def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    # -- the hot path ---------------------------------------------------------------------------------------
    def fix(self, request: LLMRequest) -> FixOutcome | None:
        done = self._loading  # one read: the load may end meanwhile
        if done is not None and not done.wait(startup.WAIT.remaining()):
            self._outcomes["skipped_loading"] += 1
            return startup.loading_outcome()
        t0 = perf_counter_ns()
        snap = self._snap
        counters = self._counters
        word_cache: dict = {}
        hits = []
        for n, layer in enumerate(snap.layers):
            for i in layer.match(request, word_cache, counters, snap.tombstones[n]):
                hits.append((-layer.priority[i], n, i))
        lookup_us = (perf_counter_ns() - t0) / 1000.0
        if not hits:
            self._outcomes["lookups"] += 1
            return FixOutcome(None, {A.ARC_PATTERN_MATCHED: False, A.ARC_PATTERN_LOOKUP_US: lookup_us,
                                     A.ARC_PATTERNS_BUNDLE_VERSION: snap.version})
        return self._decide(request, snap, hits, lookup_us)

    def explain(self, request: LLMRequest) -> tuple:
        """(outcome, per-pattern verdicts) for tools: each verdict is {id, priority, confidence,
        status: applied | low_confidence | expired | conflict | no_change, slots}."""
        snap = self._snap
        hits = []
        for n, layer in enumerate(snap.layers):
            for i in layer.match(request, {}, Counters(), snap.tombstones[n]):
                hits.append((-layer.priority[i], n, i))
        if not hits:
            return self.fix(request), []
        trace: list = []
        return self._decide(request, snap, hits, 0.0, trace), trace

    def _decide(self, request: LLMRequest, snap: Snapshot, hits: list, lookup_us: float,
                trace: list | None = None) -> FixOutcome:
        if len(hits) > 1:
            hits.sort()
        now = self._clock()
        threshold = self.threshold
        matched_ids: list = []
        claimed: set = set()
        skipped = None
        confidence = None
        draft = None
        for _, n, i in hits:
            layer = snap.layers[n]
            if layer.expires[i] <= now:
                skipped = skipped or EXPIRED
                if trace is not None:
                    trace.append(_verdict(layer, i, EXPIRED, ()))
                continue
            matched_ids.append(layer.ids.get(i))
            conf = layer.confidence[i]
            if conf < threshold:
                skipped = skipped or LOW_CONFIDENCE
                if trace is not None:
                    trace.append(_verdict(layer, i, LOW_CONFIDENCE, ()))
                continue
            ops = layer.spec_of(i).ops
            free = [op for op in ops if op.slot not in claimed] if claimed else ops
            if len(free) < len(ops):
                skipped = skipped or CONFLICT
            if trace is not None:
                lost = [op.slot for op in ops if op.slot in claimed]
                trace.append(_verdict(layer, i, CONFLICT if lost else "applied",
                                      [op.slot for op in free], lost))
            if not free:
                continue
            claimed.update([op.slot for op in free])
            if draft is None:
                draft = Draft(request.provider, request.operation, request.kwargs)
            for op in free:
                draft.apply(op)
            if confidence is None:
                confidence = conf
        applied = draft is not None and bool(draft.changes)
        attrs: dict = {A.ARC_PATTERN_MATCHED: bool(matched_ids), A.ARC_FIX_APPLIED: applied,
                       A.ARC_PATTERN_LOOKUP_US: lookup_us, A.ARC_PATTERNS_BUNDLE_VERSION: snap.version}
        out = self._outcomes
        out["lookups"] += 1
        if matched_ids:
            attrs[A.ARC_FIX_PATTERN_IDS] = tuple(matched_ids)
            out["matched"] += 1
        if skipped:
            attrs[A.ARC_FIX_SKIPPED_REASON] = skipped
            out["skipped_" + skipped] += 1
        if applied:
            attrs[A.ARC_FIX_CONFIDENCE] = confidence
            attrs[A.ARC_FIX_CHANGES] = _encode_json(draft.changes)
            out["applied"] += 1
            return FixOutcome(draft.kwargs, attrs)
        return FixOutcome(None, attrs)

    # -- introspection --------------------------------------------------------------------------------------
    def stats(self) -> dict:
        """Counts and ratios for the metrics endpoint and ``arc doctor``."""
        snap = self._snap
        c = self._counters
        negatives = c.probes - c.positives + c.false_positives
        hits = misses = 0
        specs = shapes = max_bucket = 0
        for layer in snap.layers:
            info = layer.cache_info()
            hits += info.hits
            misses += info.misses
            specs += layer.n_specs
            shapes += len(layer.shapes)
            max_bucket = max(max_bucket, layer.max_bucket)
        out = dict(self._outcomes)
        watcher = self._watcher
        return {
            "patterns": snap.total,
            "bundle_patterns": self._bundle_count(),
            "runtime_patterns": self._runtime.n,
            "removed_patterns": len(self._removed),
            "bundles": [info.as_dict() for info in self._infos],
            "bundle_version": snap.version,
            "threshold": self.threshold,
            "specs": specs,
            "shapes": shapes,
            "largest_key_bucket": max_bucket,
            "lookups": out.get("lookups", 0),
            "matched": out.get("matched", 0),
            "fixes_applied": out.get("applied", 0),
            "skipped": {k[8:]: v for k, v in out.items() if k.startswith("skipped_")},
            "bloom_probes": c.probes,
            "bloom_positives": c.positives,
            "bloom_false_positives": c.false_positives,
            "bloom_false_positive_ratio": (c.false_positives / negatives) if negatives else 0.0,
            "bloom_configured_fpr": KEY_FPR,
            "spec_cache_hits": hits,
            "spec_cache_misses": misses,
            "cache_hit_ratio": (hits / (hits + misses)) if hits + misses else 0.0,
            "load_seconds": self.load_seconds,
            "loading": self._loading is not None,
            "loaded_at": self.loaded_at,
            "last_error": self.last_error,
            "watching": bool(watcher is not None and watcher.alive),
        }


def _after_fork(ref: weakref.ref) -> None:
    """In a forked child: restart the watcher and a background load that were running."""
    engine = ref()
    if engine is None:
        return
    engine._write_lock = threading.RLock()  # a lock held by another thread at fork stays held
    if engine._loading is not None:
        engine._loading = None
        engine.load_in_background(engine._pending_paths)
    elif engine._watcher is not None:
        engine._watcher = None
        engine.start_watching()


def _verdict(layer: Layer, i: int, status: str, slots: Any, lost: Any = ()) -> dict:
    return {"id": layer.ids.get(i), "priority": layer.priority[i], "confidence": layer.confidence[i],
            "status": status, "writes": list(slots), "lost_to_higher_priority": list(lost)}


def _build_runtime(records: Mapping) -> Layer:
    builder = LayerBuilder()
    for pid, (pattern, fix, confidence, priority, expires) in records.items():
        builder.add(pid, pattern, fix, confidence, priority, expires)
    return builder.finish()

