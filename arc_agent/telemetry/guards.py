"""Telemetry guards (circuit breaker, dynamic sampling, metrics endpoint), set from ARC_* env.

Placeholder until the telemetry-robustness work lands: installs nothing.
"""

from __future__ import annotations


def install_from_env(runtime) -> None:
    return None
