"""``arc learn patterns ...``: starts the Ray job ``training_ray.learn_patterns`` as a subprocess
(the agent never imports training code); ``RAY_ADDRESS`` and all options pass through."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["patterns"], help="what to learn")
    parser.add_argument("options", nargs=argparse.REMAINDER,
                        help="options of the job (see `arc learn patterns --help`)")


def run(args: argparse.Namespace) -> int:
    from .. import jobs

    return jobs.run("training_ray.learn_patterns", ("ray",), args.options)
