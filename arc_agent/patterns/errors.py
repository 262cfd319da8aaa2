"""Errors for bad patterns and bundles: each names where the problem is (file, pattern id/index)."""

from __future__ import annotations


class PatternError(ValueError):
    """A pattern or fix that cannot be used, with the problem in plain words."""


class BundleError(ValueError):
    """A bundle that was rejected; the previously loaded set stays active."""

    def __init__(self, file: str, problem: str, pattern_id: str | None = None,
                 index: int | None = None) -> None:
        self.file = file
        self.problem = problem
        self.pattern_id = pattern_id
        self.index = index
        where = file
        if index is not None:
            where += f": pattern #{index}"
            if pattern_id is not None:
                where += f" (id {pattern_id!r})"
        elif pattern_id is not None:
            where += f": pattern {pattern_id!r}"
        super().__init__(f"{where}: {problem}")
