"""Progress of a long command: a redrawn bar on a terminal, plain lines when the stream is piped."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``with Progress("replay", total) as p: p.advance()``; ``total=None`` counts without a bar."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 lines: int = 10) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done = 0
        self._step = max(1, (total or 0) // lines) if total else 0
        self._drawn = 0.0
        self._t0 = time.monotonic()

    def __enter__(self) -> Progress:
        if not self.tty:
            self._line(f"{self.label}: started" + (f" ({self.total} items)" if self.total else ""))
        return self

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.tty:
            now = time.monotonic()
            if now - self._drawn >= 0.1 or self.done == self.total:
                self._drawn = now
                self._draw()
        elif self._step and self.done % self._step == 0 and self.done != self.total:
            self._line(f"{self.label}: {self.done}/{self.total}")

    def _draw(self) -> None:
        if self.total:
            filled = int(30 * self.done / self.total)
            bar = "#" * filled + "-" * (30 - filled)
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        else:
            self.stream.write(f"\r{self.label}: {self.done}")
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        seconds = time.monotonic() - self._t0
        if self.tty:
            self._draw()
            self.stream.write(f" ({seconds:.1f} s)\n")
            self.stream.flush()
        else:
            self._line(f"{self.label}: done {self.done}" + (f"/{self.total}" if self.total else "")
                       + f" in {seconds:.1f} s")
