"""``arc train ui-policy ...``: starts the Ray job ``training_ray.ui_policy`` as a subprocess (the agent
never imports training code); ``RAY_ADDRESS`` and all options pass through."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["ui-policy"], help="what to train")
    parser.add_argument("options", nargs=argparse.REMAINDER,
                        help="options of the job (see `arc train ui-policy --help`)")


def run(args: argparse.Namespace) -> int:
    from .. import jobs

    return jobs.run("training_ray.ui_policy", ("ray", "torch"), args.options)
