"""``arc_runtime``: the import name the product documents (``from arc_runtime import Arc``).

A thin alias of ``arc_agent``, kept as light as it is (``Arc`` is imported on first use)."""

from arc_agent import __version__, report_failure

__all__ = ["Arc", "__version__", "report_failure"]


def __getattr__(name: str):
    if name == "Arc":
        from arc_agent.api import Arc

        return Arc
    raise AttributeError(name)
