"""The pattern set ``ARC_PATTERNS`` names, as layers: one per compiled file (``compiled.py``, read
as is) and one for all JSON/YAML bundles (validated, with the snapshot cache of ``snapshot.py``).

Ids stay unique across the whole set, as within one bundle. A source set of ``BIG_SOURCE``
patterns or more is logged once: it should be compiled ahead of time (``arc patterns compile``).
"""

from __future__ import annotations

import logging
from typing import Callable

from . import compiled
from .bundle import MAX_ERRORS, BundleErrors, resolve_paths
from .errors import BundleError
from .snapshot import SnapshotPolicy
from .snapshot import load as load_with_snapshot

log = logging.getLogger("arc")

BIG_SOURCE = 100_000
_warned: set = set()  # source file sets already told to compile


def load_set(paths: list, policy: SnapshotPolicy | None, source_loader: Callable[[list], tuple],
             gentle: bool = False) -> tuple:
    """((Layer, ...), [BundleInfo]) for ``paths``, in the order the files come; BundleErrors
    naming every problem (nothing is half-loaded)."""
    try:
        files = resolve_paths(paths)
    except BundleError as exc:
        raise BundleErrors([exc]) from None
    kinds = [f.endswith(compiled.SUFFIX) or compiled.is_compiled(f) for f in files]
    sources = [f for f, c in zip(files, kinds) if not c]
    groups: list = []  # (layer, its BundleInfos)
    errors: list = []
    source_done = False
    for f, is_compiled in zip(files, kinds):
        try:
            if is_compiled:
                groups.append(compiled.read(f, gentle))
            elif not source_done:
                source_done = True
                groups.append(load_with_snapshot(sources, policy, source_loader))
                _advise_compiling(sources, groups[-1][0].n)
        except BundleErrors as exc:
            errors.extend(exc.errors)
    if not errors:
        errors = _duplicates_across(groups)
    if errors:
        raise BundleErrors(errors[:MAX_ERRORS])
    return tuple(layer for layer, _ in groups), [info for _, found in groups for info in found]


def _advise_compiling(sources: list, n: int) -> None:
    key = tuple(sources)
    if n >= BIG_SOURCE and key not in _warned:
        _warned.add(key)
        log.warning("arc: %d patterns loaded from JSON/YAML (%s): compile them ahead of time with "
                    "`arc patterns compile %s -o patterns%s` and set ARC_PATTERNS to that file, so that they "
                    "load in a fraction of the time, off the app's start-up", n, ", ".join(sources),
                    " ".join(sources), compiled.SUFFIX)


def _duplicates_across(groups: list) -> list:
    """An id used in two layers is refused, as a duplicate within one bundle is."""
    errors: list = []
    for k, (later, later_infos) in enumerate(groups):
        for earlier, earlier_infos in groups[:k]:
            for i in later.ids.common(earlier.ids, MAX_ERRORS - len(errors)):
                errors.append(BundleError(_files(later_infos), f"duplicate id (already used in "
                                          f"{_files(earlier_infos)})", later.ids.get(i)))
            if len(errors) >= MAX_ERRORS:
                return errors
    return errors


def _files(infos: list) -> str:
    return ",".join(dict.fromkeys(i.file for i in infos)) or "?"
