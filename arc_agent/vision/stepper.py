"""The sequential policy's loop, shared by the agent and the training environment (``training_ray``).

At each step the policy sees ``features.step_state`` (confidence, model features, whether a covering
layer can be dismissed, step, time spent)
and picks one of ``features.ACTIONS``; ``act`` (or MAX_STEPS, or a confidence at or above the
threshold) ends the loop and the action is taken. The agent chooses the most likely action; the
training environment samples and records each step through ``on_step``.
"""

from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

from . import tools
from .features import ACTIONS, MAX_STEPS, step_state


def run_steps(target, stats, look, want_page: Optional[str], settings, choose: Callable[[Sequence[float]], int],
              max_steps: int = MAX_STEPS, on_step: Optional[Callable] = None):
    """Generator returning the look after the chosen tools. ``on_step(state, action, look_before)``."""
    for step in range(max_steps):
        if look.conf is None or look.conf >= settings.threshold:
            break
        state = step_state(look.conf, look.feats, step, time.perf_counter() - stats.t0, look.probe)
        action = int(choose(state))
        if not 0 <= action < len(ACTIONS):
            break
        if on_step is not None:
            on_step(state, action, look)
        if ACTIONS[action] == "act":
            break
        look = yield from tools.apply(ACTIONS[action], target, stats, look, want_page, settings.wait_ms)
    return look
