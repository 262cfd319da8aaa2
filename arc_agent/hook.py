"""The start-up import hook: a tiny meta-path finder that patches a library right after it loads.

Why hand-written instead of wrapt's post-import hooks: importing wrapt is costly (benchmarks/RESULTS.md),
and would be paid by every process at start-up. This module imports only ``sys``/``os``/``_thread`` (and ``settings``,
which imports only ``os``) and defers everything else to the moment a target library is actually
imported. Hook errors never fail the user's import. The hook imports the runtime (lazily), never the
reverse.
"""


import _thread
import os
import sys

from . import settings

_installed = False
_lock = _thread.RLock()
_pending: dict = {}  # top-level module name -> integration name
_local = _thread._local()


def disabled_by_env(environ=os.environ) -> bool:
    return settings.flag("ARC_DISABLE", environ)


def disabled_integrations(environ=os.environ) -> set:
    raw = settings.text("ARC_DISABLED_INSTRUMENTATIONS", environ) or ""
    return {p.strip().lower() for p in raw.split(",") if p.strip()}


class _ChainedLoader:
    """Delegates to the real loader, then runs the integration's patch after the module executed."""

    def __init__(self, loader, name: str) -> None:
        self.loader = loader
        self._arc_name = name

    def create_module(self, spec):
        create = getattr(self.loader, "create_module", None)
        return create(spec) if create else None

    def exec_module(self, module) -> None:
        try:
            module.__loader__ = self.loader
            if getattr(module, "__spec__", None) is not None:
                module.__spec__.loader = self.loader
        except Exception:
            pass
        self.loader.exec_module(module)
        _on_imported(self._arc_name)

    def __getattr__(self, item):
        return getattr(self.loader, item)


class ArcFinder:
    """Meta-path finder at ``sys.meta_path[0]``; answers only for the watched top-level names."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _pending or getattr(_local, "busy", False):
            return None
        _local.busy = True
        try:
            import importlib.util

            spec = importlib.util.find_spec(fullname)
        except Exception:
            return None
        finally:
            _local.busy = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _ChainedLoader(spec.loader, fullname)
        return spec

    def invalidate_caches(self) -> None:
        pass


_finder = ArcFinder()


def _on_imported(name: str) -> None:
    with _lock:
        integration = _pending.pop(name, None)
    if integration is None:
        return
    patch_integration(integration)


def patch_integration(name: str) -> bool:
    """Activate the runtime (lazily) and patch one integration (the runtime knows what is patched
    already); never raises."""
    try:
        from . import runtime

        return runtime.get_runtime().patch_integration(name)
    except Exception as exc:
        sys.stderr.write(f"arc: could not instrument {name}, continuing without it: {exc!r}\n")
        return False


def arc_active() -> bool:
    """Arc runs in this process: ``Arc()`` was made or this hook is installed (then the runtime is
    activated now if no target library was imported yet). A report in an app that is not
    instrumented must not start a telemetry pipeline of its own."""
    if disabled_by_env():
        return False
    loaded = sys.modules.get("arc_agent.runtime")  # not imported: nothing of Arc is active yet
    current = getattr(loaded, "_runtime", None) if loaded is not None else None
    if current is not None and current.active:
        return True
    if not _installed:
        return False
    from . import runtime

    runtime.get_runtime().activate()
    return True


def install(names=None) -> None:
    """Watch the given integrations; patch at once those already imported."""
    global _installed
    from .instrumentation import INTEGRATIONS

    off = disabled_integrations()
    if not off <= set(INTEGRATIONS):
        import logging

        logging.getLogger("arc").warning(
            "arc: ARC_DISABLED_INSTRUMENTATIONS names %s, not an integration (%s); ignored",
            ", ".join(sorted(off - set(INTEGRATIONS))), ", ".join(INTEGRATIONS))
    wanted = [n for n in (names or INTEGRATIONS) if n not in off]
    ready = []
    with _lock:
        for name in wanted:
            if name in sys.modules:
                ready.append(name)
            else:
                _pending[name] = name
        if not _installed:
            sys.meta_path.insert(0, _finder)
            _installed = True
    for name in ready:
        patch_integration(name)


def uninstall() -> None:
    global _installed
    with _lock:
        _pending.clear()
        if _installed:
            try:
                sys.meta_path.remove(_finder)
            except ValueError:
                pass
            _installed = False


def install_from_env() -> None:
    if disabled_by_env():
        return
    install()
