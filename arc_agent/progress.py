"""Progress of a long command: a tqdm bar on a terminal, plain lines when the stream is piped.

    with Progress("replay", total=len(records)) as p:
        for r in records:
            ...
            p.advance()
    with Progress("compile", total=2) as p:   # few long steps: say which one runs
        p.stage("load and index"); ...; p.advance()
    with Progress("train", total=10) as p:    # an iteration's figures: beside the bar, or one line each
        p.advance(note="iteration 1/10 reward 0.52")

On a terminal the bar (and its elapsed time, refreshed while a long step runs) is drawn on stderr;
piped, a start line, about ``lines`` progress lines, each stage, and a closing line with the time,
so logs of CI runs stay readable.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

_TICK_S = 0.5  # how often a terminal bar is redrawn while nothing advances (elapsed time moves)


def _columns(stream: TextIO) -> int:
    """The terminal's width, 0 when it reports no size."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return 0
    return size.columns if size.lines > 0 else 0


class Progress:
    """``total=None`` counts without a bar."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 lines: int = 10, unit: str = "it") -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", None) and self.stream.isatty())
        self.unit = unit
        self.done = 0
        self._step = max(1, (total or 0) // lines) if total else 0
        self._t0 = time.monotonic()
        self._bar = None
        self._stop = threading.Event()

    def __enter__(self) -> Progress:
        self._t0 = time.monotonic()
        if self.tty:
            from tqdm import tqdm

            sized = _columns(self.stream) > 0  # a terminal that reports no size (0x0) gets 80 columns
            self._bar = tqdm(total=self.total, desc=self.label, file=self.stream, unit=self.unit,
                             dynamic_ncols=sized, ncols=None if sized else 80, nrows=None if sized else 24,
                             leave=True, mininterval=0.1)
            threading.Thread(target=self._tick, name="arc-progress", daemon=True).start()
        else:
            self._line(f"{self.label}: started" + (f" ({self.total} items)" if self.total else ""))
        return self

    def start(self) -> Progress:
        """For a loop that cannot sit in a ``with`` block: ``start()`` ... ``close()`` in a ``finally``."""
        return self.__enter__()

    def close(self) -> None:
        self.__exit__(None, None, None)

    def _tick(self) -> None:
        while not self._stop.wait(_TICK_S):
            bar = self._bar
            if bar is not None:
                bar.refresh()

    def advance(self, n: int = 1, note: str | None = None) -> None:
        """``note``: what this step gave (figures of an iteration): beside the bar, or a line of its own."""
        self.done += n
        if self._bar is not None:
            if note is not None:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(n)
        elif note is not None:
            self._line(f"{self.label}: {note}")
        elif not self.tty and self._step and self.done % self._step == 0 and self.done != self.total:
            self._line(f"{self.label}: {self.done}/{self.total}")

    def stage(self, text: str) -> None:
        """Name the step now running (a long one, with few or no ``advance`` calls)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text)
        else:
            self._line(f"{self.label}: {text}")

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        seconds = time.monotonic() - self._t0
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.close()
        else:
            self._line(f"{self.label}: done {self.done}" + (f"/{self.total}" if self.total else "")
                       + f" in {seconds:.1f} s")
