"""Arc Runtime agent.

Kept import-light on purpose: ``sitecustomize`` imports this package in every process, so the
heavy parts (OTel SDK, wrapt, grpc) load only when ``Arc`` is used or a target library is imported.

PYTEST_DONT_REWRITE: under ``arc-instrument pytest`` this package is imported before pytest starts;
pytest marks it for assertion rewriting (the ``arc_replay`` plugin's entry point) and would warn that
it cannot, which breaks a suite run with ``-W error``.
"""

from ._version import __version__

__all__ = ["Arc", "__version__", "report_failure"]


def report_failure(kind: str, detail: "str | None" = None) -> bool:
    """Report a failure only the app can see (its parse failed, a validator rejected the answer): an
    ``arc.report_failure`` span linked to this context's last LLM call. Never raises; True when
    reported. (The OTel SDK is imported here, at the first report, not with this package.)"""
    from . import hook
    from .llm.report import report_failure as report

    return report(kind, detail, hook.arc_active)


def __getattr__(name: str):  # lazy: typing/OTel imports would cost every process
    if name == "Arc":
        from .api import Arc

        return Arc
    raise AttributeError(name)
