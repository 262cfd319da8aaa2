"""Registry of instrumented libraries.

Each entry is the top-level import name of a library; its integration lives in the module of the
same name in this package and exposes the small interface described in ``base.py``. Adding an
integration = adding that module and its name here. Nothing here imports a target library.
"""

INTEGRATIONS: tuple = ("openai", "anthropic", "playwright", "selenium")


def integration_module(name: str) -> str:
    return f"{__name__}.{name}"
