"""Arc Runtime bootstrap, loaded by every Python process started under ``arc-instrument``.

Why so small: this file runs in every child interpreter, including ones that never call an LLM.
It installs a tiny import hook (no OTel, grpc or wrapt here) and then chains the user's own
``sitecustomize`` the way ddtrace does, so ours never hides theirs. It never raises.
"""

import os
import sys


def _chain_user_sitecustomize() -> None:
    """Import the next ``sitecustomize`` on sys.path (the user's), hiding this directory meanwhile."""
    here = os.path.dirname(os.path.abspath(__file__))
    ours = sys.modules.pop("sitecustomize", None)
    saved_path = list(sys.path)
    try:
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
        import importlib

        try:
            importlib.import_module("sitecustomize")
        except ImportError as exc:
            if exc.name != "sitecustomize":
                raise
    except Exception as exc:  # a broken user sitecustomize must behave as without Arc: warn, go on
        sys.stderr.write(f"arc: error in user sitecustomize: {exc!r}\n")
    finally:
        sys.path[:] = saved_path
        user = sys.modules.get("sitecustomize")
        if user is not None and user is not ours:
            sys.modules["arc_user_sitecustomize"] = user
        if ours is not None:
            sys.modules["sitecustomize"] = ours


def _install() -> None:
    try:
        from arc_agent import hook
    except ImportError as exc:  # usually the app's Python is not the one Arc is installed in
        if exc.name != "arc_agent":
            sys.stderr.write(f"arc: bootstrap failed, running without Arc: {exc!r}\n")
            return
        sys.stderr.write(
            f"arc: this Python ({sys.executable}, {sys.version.split()[0]}) cannot import Arc ({exc}); the program "
            "runs without Arc.\n     Fix: run it with the Python that has arc-runtime installed (activate that "
            "venv, or `arc-instrument /path/to/venv/bin/python ...`), or `pip install arc-runtime` into this one. "
            "`arc doctor` shows the Python Arc is installed in.\n")
        return
    try:
        hook.install_from_env()
    except Exception as exc:  # never break the interpreter start
        sys.stderr.write(f"arc: bootstrap failed, running without Arc: {exc!r}\n")


_install()
_chain_user_sitecustomize()
