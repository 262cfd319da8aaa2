"""Compiled pattern files: a bundle set validated and indexed ahead of time (``arc patterns
compile BUNDLE... -o FILE``, e.g. in CI), loaded by the agent without parsing or validating again.

Same container as the cache snapshots (``snapshot.py``: header, 8-byte aligned column sections
with crc32s), with its own magic and a sha256 of all of it at the end instead of the per-user
HMAC: a compiled file is made elsewhere (the user's CI), so it cannot carry this user's key.

Trust: a compiled file is a file the user named (in ``ARC_PATTERNS``, or a registry artifact whose
manifest sha256 the registry checks), trusted like the bundle it came from. What is checked on
load: a regular file (no FIFO/device) within ``ARC_PATTERNS_MAX_BYTES``, the magic and format
version, the sha256 trailer (a truncated or damaged copy is refused, never half-used), every
section's crc32, every index within range, and the equality values are plain JSON-like values.
Cache snapshots, written by the agent itself next to bundles, keep their MAC and owner checks.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from typing import Any, Callable

from .._version import __version__
from .bounded import Deadline, DeadlineFile, max_bytes, open_regular, within_deadline
from .bundle import COMPILED_SUFFIX, BundleErrors, BundleInfo, load_layer
from .errors import BundleError
from .fuzzy import WIDTH
from .index import assemble
from .snapshot import BadSignature, parts_from, read_container, write_container

MAGIC = b"ARC-PATTERNS-COMPILED\n"
FORMAT = 1
SUFFIX = COMPILED_SUFFIX  # picked up from folders named in ARC_PATTERNS, next to *.json/*.yaml


def is_compiled(path: str) -> bool:
    """Whether ``path`` is a regular file that starts like a compiled pattern file."""
    def starts_like_one(deadline: Deadline) -> bool:
        with os.fdopen(open_regular(path), "rb", buffering=0) as fh:
            return DeadlineFile(fh, deadline).read(len(MAGIC)) == MAGIC

    try:
        return within_deadline(path, starts_like_one)
    except (BundleError, OSError):  # read as a bundle then, which names the problem
        return False


def compile_bundles(paths: list, out: str, step: Callable[[str], None] | None = None) -> tuple:
    """Load and validate the bundles under ``paths`` and write their compiled form to ``out``
    (atomically); returns (pattern count, [BundleInfo]). BundleErrors for a bad bundle.
    ``step(next_stage)`` is called when loading is done (for a progress display)."""
    layer, infos = load_layer(paths)
    if step is not None:
        step(f"write {layer.n} patterns")
    parts, layer.parts = layer.parts, None
    fields = {"format": FORMAT, "compiled_by": f"arc {__version__}", "marshal": marshal.version}
    write_container(out, MAGIC, fields, parts, infos, hashlib.sha256())
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(out, 0o644 & ~umask)  # an artifact to ship, like the bundles (the temp file was 0600)
    return layer.n, infos


def read(path: str, gentle: bool = False) -> tuple:
    """(Layer, [BundleInfo]) of the compiled file ``path``; BundleErrors naming the file and the
    problem when it is not a compiled file, is damaged, or is for another format."""
    try:
        header, sections = within_deadline(path, lambda deadline: _read_sections(path, deadline))
        if header.get("width") != WIDTH:
            raise ValueError(f"fuzzy index width {header.get('width')!r}, this Arc uses {WIDTH}: recompile it")
        parts = parts_from(header, sections)
        elements = marshal.loads(parts.elements)
        _check_elements(elements)
        infos = [BundleInfo(path, str(m["name"]), m["version"], m["created_at"], int(m["count"]), str(m["sha256"]))
                 for m in header["infos"]]
        layer = assemble(parts, gentle, elements)
    except BundleError as exc:
        raise BundleErrors([exc]) from None
    except BadSignature:
        raise BundleErrors([BundleError(path, "compiled pattern file is damaged or truncated (its sha256 "
                                              "does not match): copy or compile it again")]) from None
    except (ValueError, KeyError, TypeError, IndexError, EOFError, OSError, RecursionError) as exc:
        raise BundleErrors([BundleError(path, f"not a valid compiled pattern file: {exc}")]) from None
    return layer, infos


def _read_sections(path: str, deadline: Deadline) -> tuple:
    fd = open_regular(path)
    limit = max_bytes()
    size = os.fstat(fd).st_size
    if size > limit:
        os.close(fd)
        raise BundleError(path, f"is {size} bytes, over the {limit}-byte limit (ARC_PATTERNS_MAX_BYTES)")
    with os.fdopen(fd, "rb") as fh:
        return read_container(DeadlineFile(fh, deadline), MAGIC, hashlib.sha256(), _supported)


def _supported(header: dict) -> None:
    fmt = header.get("format")
    if fmt != FORMAT:
        raise ValueError(f"format {fmt!r}, this Arc reads format {FORMAT}: compile it again with this Arc")
    if not isinstance(header.get("marshal"), int) or header["marshal"] > marshal.version:
        raise ValueError(f"made by a newer Python (marshal {header.get('marshal')!r} > {marshal.version}): "
                         "compile it with this Python")


_PLAIN = (str, int, float, bool, type(None))


def _check_elements(elements: list) -> None:
    """The equality values are (field, frozen value) pairs of plain values and tuples: nothing
    else marshal could carry (code objects, sets) reaches the index."""
    stack: list = [elements]
    while stack:
        value: Any = stack.pop()
        if type(value) is tuple or type(value) is list:
            stack.extend(value)
        elif not isinstance(value, _PLAIN):
            raise ValueError(f"an equality value of type {type(value).__name__}")
