"""The pattern store and request fixer: match intercepted LLM requests against known failure
patterns and apply their fixes before the request leaves the process.

Bundle (JSON or YAML; ``ARC_PATTERNS=PATH[:PATH...]``, files or directories, ``demo`` = the
shipped demo bundle; hot-reloaded when a file changes; sets of 20k+ patterns are also saved as a
binary snapshot next to the first file, so that later starts load in about a second:
``ARC_PATTERNS_SNAPSHOT=off|DIR``, see ``snapshot.py``; or compiled ahead of time with
``arc patterns compile``, see ``compiled.py``; big sets load in the background, see ``startup.py``)::

    version: 3                      # reported as arc.patterns.bundle_version "<name>@<version>"
    name: checkout-fixes
    created_at: "2026-01-01T00:00:00Z"
    patterns:
      - id: gpt4-hot                # optional (default "<name>#<index>"), unique across bundles
        pattern: {model: gpt-4, temperature: {">": 0.9}}
        fix: {temperature: 0.7}
        confidence: 0.9             # 0..1, default 1; below ARC_FIX_THRESHOLD (0.5): reported only
        priority: 10                # higher first; a field written by a higher one is a conflict
        expires_at: "2026-06-30T00:00:00Z"   # or epoch seconds; expired patterns never match
        description: why

Match fields: ``provider operation model system prompt messages`` (count) and every request
parameter by name, plus ``response_format.type`` and ``tools[].name``. Conditions: a plain value
(equality) or operators ``== != > >= < <= in not_in exists contains startswith regex similar``
(``similar`` = Jaccard of lowercase word sets, ``threshold`` default 0.8; ``regex`` = RE2).
Fixes: ``{param: value}`` set, ``{param: {max/min}}`` clamp, ``{param: {remove: true}}``,
``{param: {set: object}}``, ``model``, ``prepend_system``/``append_system``,
``prefix_prompt``/``suffix_prompt`` — translated per provider by ``apply.py``.
"""

from typing import Any

__all__ = ["DEMO_BUNDLE", "BundleError", "BundleErrors", "PatternEngine", "PatternError"]
_HOME = {"DEMO_BUNDLE": "bundle", "BundleErrors": "bundle", "PatternEngine": "engine", "BundleError": "errors",
         "PatternError": "errors"}


def __getattr__(name: str) -> Any:
    """The package's names on first use: ``startup`` is imported on the app's import path and
    must not pull the engine (numpy, rbloom, re2) in with it."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
