"""A fresh registry root per test and small helpers to write artifacts and tamper with them."""

from __future__ import annotations

import json
import os
import time

import pytest

from arc_agent.registry import Registry


@pytest.fixture
def registry(tmp_path):
    return Registry(str(tmp_path / "registry"))


def bundle_file(folder, name: str, seed: int, version: int = 1) -> str:
    """A one-pattern bundle setting ``seed`` on gpt-4 calls."""
    path = os.path.join(str(folder), name)
    with open(path, "w") as fh:
        json.dump({"version": version, "name": "fixes", "patterns": [
            {"id": "seed", "pattern": {"model": "gpt-4"}, "fix": {"seed": seed}}]}, fh)
    return path


def tamper(path: str, data: bytes = b" ") -> None:
    """Change a published (read-only) file in place, the way a bad disk or a careless copy would."""
    os.chmod(path, 0o644)
    with open(path, "ab") as fh:
        fh.write(data)


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
