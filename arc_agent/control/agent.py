"""Agent side entry: with ``ARC_CONTROL_ENDPOINT`` set, start the subscriber in a daemon thread.

Called by the runtime's activation. It only starts a thread (gRPC, cryptography and the
subscriber load inside it), so it never adds to an import or a call; without the setting it does
nothing at all.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Optional

from .. import settings

log = logging.getLogger("arc")

SUBSCRIBER: Optional[Any] = None
"""The running ``subscriber.Subscriber`` (None until its thread has built it, or without an endpoint)."""
_started = threading.Event()


def start_from_env(runtime: Any) -> bool:
    if not settings.text("ARC_CONTROL_ENDPOINT") or _started.is_set():
        return False
    _started.set()
    threading.Thread(target=_run, args=(runtime,), name="arc-control", daemon=True).start()
    return True


def _run(runtime: Any) -> None:
    global SUBSCRIBER
    from .. import failopen

    try:
        from .subscriber import Subscriber

        SUBSCRIBER = Subscriber.from_env(runtime)
        if SUBSCRIBER is not None:
            SUBSCRIBER.run()
    except Exception as exc:
        failopen.record("control", exc)


def status() -> Optional[dict]:
    sub = SUBSCRIBER
    return None if sub is None else sub.status()
