"""The pattern store and request fixer: match intercepted LLM requests against known failure
patterns and apply their fixes (see ``engine.PatternEngine``)."""

from .bundle import DEMO_BUNDLE, BundleErrors
from .engine import PatternEngine
from .errors import BundleError, PatternError

__all__ = ["DEMO_BUNDLE", "BundleError", "BundleErrors", "PatternEngine", "PatternError"]
