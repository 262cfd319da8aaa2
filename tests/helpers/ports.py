"""Local TCP ports for tests: a free one, and a black-holed collector."""

from __future__ import annotations

import socket

import pytest


def free_port() -> int:
    """A port nothing listens on (a collector that is down refuses connections there)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_port():
    """A TCP port that accepts connections and never answers (a black-holed collector)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()
