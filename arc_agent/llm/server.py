"""``server.address`` / ``server.port`` of an SDK resource (``client.chat.completions``), public APIs only.

The SDKs' resource classes take their client as their one constructor argument (``Completions(client)``)
and keep no public link back to it. So the integrations wrap the constructors of the classes they
patch (``remember_clients``) to note each new resource's client, weakly; the span then reads the
client's public ``base_url`` once per resource. A resource built before its class was patched (an
``Arc()`` started after the app used its client, or a re-patch) has no known client: on SDK versions
Arc was tested with its private ``_client`` is read (``fastpaths.gate``); elsewhere, or with
``ARC_PRIVATE_READS=0``, its spans carry no ``server.*`` attributes, counted in
``arc_fast_path_off_total{path="llm.server_address"}`` and logged once.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

from .. import failopen, fastpaths

_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # resource -> weakref(client)
_servers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # resource -> (host, port)
_originals: dict = {}  # patched class -> its own __init__ before patching (None: it inherited one)
# SDK versions whose resources keep their client in ``_client`` (tested: the dev extra's and the matrix's)
PRIVATE_CLIENT_TESTED = {"openai": ("1.66.0", "4.0.0"), "anthropic": ("0.40.0", "3.0.0")}
PATH = "llm.server_address"  # fast path name (arc_fast_path_off_total{path})


def remember(resource: Any, client: Any) -> None:
    """Note that ``resource`` belongs to ``client`` (``Arc.wrap`` calls it for resources it binds)."""
    try:
        _clients[resource] = weakref.ref(client)
    except TypeError:  # not weak-referenceable: no server.* for it
        pass


def remember_clients(cls: type) -> None:
    """Wrap ``cls.__init__(self, client)`` to remember each instance's client (once per class)."""
    if cls in _originals or any(base in _originals for base in cls.__mro__[1:]):
        return
    original = cls.__init__

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        client = args[0] if args else kwargs.get("client")
        if client is not None:
            remember(self, client)

    _originals[cls] = cls.__dict__.get("__init__")
    cls.__init__ = __init__


def forget_clients(cls: type) -> None:
    """Undo ``remember_clients`` (resources already noted stay noted)."""
    if cls not in _originals:
        return
    own = _originals.pop(cls)
    if own is None:
        del cls.__init__
    else:
        cls.__init__ = own


def server(instance: Any):
    """(host, port) of ``instance``'s client ``base_url``, read once per resource; None if unknown."""
    if instance is None:
        return None
    try:
        return _servers[instance]
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable: never remembered
        return None
    ref = _clients.get(instance)
    client = ref() if ref is not None else _private_client(instance)
    found = None
    if client is not None:
        try:
            url = client.base_url  # public on every supported openai/anthropic client
            found = (url.host, url.port or (443 if url.scheme == "https" else 80))
        except Exception as exc:  # another SDK layout: no server.* attributes, counted and logged once
            failopen.record("server_address", exc)
    _servers[instance] = found
    return found


def _private_client(instance: Any) -> Any:
    """The client of a resource built before Arc patched its class: its private ``_client``, on tested
    SDK versions only; else None, counted and logged once."""
    library = type(instance).__module__.split(".")[0]
    tested = PRIVATE_CLIENT_TESTED.get(library)
    reason, detail = fastpaths.gate(library, tested) if tested else ("missing", f"{library} is not an LLM SDK")
    if reason is None:
        client = getattr(instance, "_client", None)
        if client is not None:
            return client
        reason, detail = "missing", f"{type(instance).__qualname__}._client"
    fastpaths.fallback(PATH, reason, f"{detail}; a resource built before Arc patched its class has no known "
                       "client: its spans carry no server.address/server.port")
    return None
