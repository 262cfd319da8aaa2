"""``arc train ui-policy ...``: starts the Ray job ``training_ray.ui_policy`` as a subprocess (the agent
never imports training code); ``RAY_ADDRESS`` and all options pass through."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HELP = "train a learned policy from the span store (a Ray job): ui-policy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["ui-policy"], help="what to train")
    parser.add_argument("options", nargs=argparse.REMAINDER,
                        help="options of the job (see `arc train ui-policy --help`)")


def run(args: argparse.Namespace) -> int:
    import importlib.util

    for module in ("ray", "torch"):  # the job runs in a child: say it here, not as its traceback
        if importlib.util.find_spec(module) is None:
            raise ModuleNotFoundError(module, name=module)  # `arc` names the extra to install
    cmd = [sys.executable, "-m", "training_ray.ui_policy", *args.options]
    try:
        return subprocess.call(cmd, env=dict(os.environ))
    except KeyboardInterrupt:
        return 130
