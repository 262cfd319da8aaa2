"""Channel pointers: ``channels/<channel>.json`` names the version a channel serves, atomically.

A move writes a whole new pointer file beside the old one and ``os.replace``s it in, so a reader
sees the old pointer or the new one, never a mix. The pointer keeps the versions it pointed at
before (``previous``, the rollback stack) and its last moves (``moves``), both bounded.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import List, Optional

from ..fsutil import atomic_write
from . import names
from .errors import ArtifactRejected

FORMAT = 1


@dataclasses.dataclass(frozen=True)
class ChannelState:
    kind: str
    name: str
    channel: str
    version: int
    updated: str
    previous: List[int] = dataclasses.field(default_factory=list)
    moves: List[dict] = dataclasses.field(default_factory=list)
    """``{"at", "action": promote|rollback, "from", "to"}``, oldest first."""
    tenant: Optional[str] = None
    share: Optional[float] = None
    """On the canary channel: the part of ``stable``'s followers served this channel (None: the
    control server's ``--canary-share``). Kept across moves; in the pointer, so it changes atomically."""
    format: int = FORMAT

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def moved(self, action: str, to: int, previous: List[int]) -> ChannelState:
        move = {"at": now_iso(), "action": action, "from": self.version, "to": to}
        return dataclasses.replace(self, version=to, updated=move["at"], previous=previous[-names.MAX_HISTORY:],
                                   moves=(self.moves + [move])[-names.MAX_HISTORY:])


def now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def read(path: str, kind: str, name: str, channel: str) -> Optional[ChannelState]:
    """The pointer at ``path``, None if the channel was never set; a bad pointer is ArtifactRejected."""
    where = f"{kind}/{name}@{channel}"
    try:
        with open(path, "rb") as fh:
            data = fh.read(names.MAX_POINTER_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ArtifactRejected(f"{where}: cannot read the channel pointer ({exc.strerror or exc})") from None
    if len(data) > names.MAX_POINTER_BYTES:
        raise ArtifactRejected(f"{where}: channel pointer larger than {names.MAX_POINTER_BYTES} bytes")
    try:
        raw = json.loads(data)
        state = ChannelState(**raw)
        names.check_version(state.version)
        for v in state.previous:
            names.check_version(v)
        if not isinstance(state.moves, list) or not isinstance(state.updated, str):
            raise ValueError("moves/updated have the wrong type")
        if state.share is not None:
            names.check_share(state.share)
    except (ValueError, TypeError, RecursionError) as exc:  # RegistryError is a ValueError
        raise ArtifactRejected(f"{where}: bad channel pointer {path} ({exc})") from None
    if (state.kind, state.name, state.channel) != (kind, name, channel):
        raise ArtifactRejected(f"{where}: channel pointer {path} names {state.kind}/{state.name}@{state.channel}")
    return state


def write(path: str, state: ChannelState) -> None:
    data = json.dumps(state.as_dict(), indent=2).encode("utf-8") + b"\n"
    atomic_write(path, [data])
