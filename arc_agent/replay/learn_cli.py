"""``arc learn patterns ...``: starts the Ray job ``training_ray.learn_patterns`` as a subprocess
(the agent never imports training code); ``RAY_ADDRESS`` and all options pass through."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HELP = "learn verified fix patterns from the span store (a Ray job)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["patterns"], help="what to learn")
    parser.add_argument("options", nargs=argparse.REMAINDER,
                        help="options of the job (see `arc learn patterns --help`)")


def run(args: argparse.Namespace) -> int:
    import importlib.util

    if importlib.util.find_spec("ray") is None:  # the job runs in a child: say it here, not as its traceback
        raise ModuleNotFoundError("ray", name="ray")  # `arc` names the extra to install
    cmd = [sys.executable, "-m", "training_ray.learn_patterns", *args.options]
    try:
        return subprocess.call(cmd, env=dict(os.environ))
    except KeyboardInterrupt:
        return 130
