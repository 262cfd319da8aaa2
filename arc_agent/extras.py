"""Which optional extra brings which module, so a command whose extra is missing says what to
install (``arc`` catches the import error) and ``arc doctor`` shows the same table."""

from __future__ import annotations

import importlib.util

# extra -> (top-level modules it installs, what needs it)
EXTRAS: dict = {
    "collector": (("chdb", "clickhouse_driver"), "`arc collector`, `arc query`/`heal-report`/`report` on a --store"),
    "proxy": (("aiohttp",), "`arc proxy` (the side-car)"),
    "control": (("cryptography",), "signed artifacts: `arc registry keygen`, signing, ARC_TRUST_KEY checks"),
    "vision": (("onnxruntime", "PIL", "imagehash"), "UI-action confidence and healing (Playwright/Selenium)"),
    "training": (("ray", "torch", "onnx"), "`arc learn`, `arc train`, the training jobs"),
}


def extra_for(module: str | None) -> str | None:
    """The extra that installs ``module`` (``chdb.session`` -> ``collector``), None if none does."""
    top = (module or "").split(".", 1)[0]
    return next((extra for extra, (modules, _) in EXTRAS.items() if top in modules), None)


def missing(extra: str) -> list:
    """Modules of ``extra`` this interpreter cannot import."""
    found = []
    for module in EXTRAS[extra][0]:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            found.append(module)
    return found


def install_hint(extra: str) -> str:
    return f"pip install 'arc-runtime[{extra}]'"


def message(command: str, module: str) -> str | None:
    """What ``arc COMMAND`` prints when ``module`` is missing, None when no extra brings it."""
    extra = extra_for(module)
    if extra is None:
        return None
    top = module.split(".", 1)[0]
    return (f"arc {command}: needs the '{extra}' extra ({top} is not installed): {install_hint(extra)}\n"
            "  (`arc doctor` lists the extras of this install)")
