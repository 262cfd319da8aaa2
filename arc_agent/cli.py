"""``arc`` command: one subcommand per area, each implemented in that area's own ``cli`` module.

A subcommand module provides ``add_arguments(parser)`` and ``run(args) -> int``; it is imported only
when its subcommand runs, so ``arc --help`` stays fast: each one-line help is here, in ``_HELP``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys

SUBCOMMANDS: dict = {
    "dev-llm": "arc_agent.devllm.cli",
    "patterns": "arc_agent.patterns.cli",
    "golden": "arc_agent.golden_cli",
    "collector": "arc_agent.collector.cli",
    "query": "arc_agent.collector.query_cli",
    "doctor": "arc_agent.doctor",
    "heal-report": "arc_agent.vision.heal_report",
    "registry": "arc_agent.control.registry_cli",
    "train": "arc_agent.vision.train_cli",
    "policy": "arc_agent.vision.policy_cli",
    "replay": "arc_agent.replay.cli",
    "learn": "arc_agent.replay.learn_cli",
    "proxy": "arc_agent.proxy.cli",
    "serve": "arc_agent.control.serve_cli",
    "fleet": "arc_agent.control.fleet_cli",
    "report": "arc_agent.report.cli",
}

_HELP = {
    "dev-llm": "run the local OpenAI/Anthropic-compatible test server",
    "patterns": "validate, test and compile pattern bundles",
    "golden": "run the shipped golden-request cases against this install",
    "collector": "run the embedded OTLP collector writing to ClickHouse (chDB)",
    "query": "run a read-only SQL query against the span store",
    "doctor": "show Arc's view of this environment and of a running agent",
    "heal-report": "list UI actions Arc healed, so selectors can be fixed",
    "registry": "list, publish, promote and roll back versioned artifacts (pattern bundles, models)",
    "train": "train a learned policy from the span store (a Ray job): ui-policy",
    "policy": "compare UI tool policy versions: failure rate and added time per version",
    "replay": "re-send a captured cassette through the real SDKs with a pattern set; outcomes before/after",
    "learn": "learn verified fix patterns from the span store (a Ray job)",
    "proxy": "run the side-car proxy: OpenAI/Anthropic HTTP in, fixed requests upstream, spans to the collector",
    "serve": "serve the registry to a fleet of agents over gRPC (control plane)",
    "fleet": "list the agents following a control server, with their versions and health",
    "report": "write the dashboard's charts and the heal report into one self-contained HTML file",
}


def _unloadable_patterns_publish(args: argparse.Namespace) -> bool:
    """``arc registry publish patterns NAME FILE`` of a file no agent could load (a typo'd path to the
    wrong file): refused with the bundle errors before an immutable version exists that a fleet may
    follow. The registry layer cannot read bundles itself (it sits below ``patterns``)."""
    if args.command != "registry" or getattr(args, "registry_command", None) != "publish" \
            or args.kind != "patterns" or not os.path.exists(args.path):
        return False
    from arc_agent.patterns.cli import validate

    with contextlib.redirect_stdout(io.StringIO()):
        if validate([args.path], False) == 0:
            return False
    print(f"error: {args.path} is not a pattern bundle agents can load (see above); nothing was published",
          file=sys.stderr)
    return True


def main(argv: list | None = None) -> int:
    from arc_agent import __version__

    parser = argparse.ArgumentParser(prog="arc", description="Arc Runtime command line.")
    parser.add_argument("--version", action="version", version=f"arc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    modules = {}
    for name, help_text in _HELP.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            modules[name] = importlib.import_module(SUBCOMMANDS[name])
            modules[name].add_arguments(p)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if _unloadable_patterns_publish(args):
        return 1
    try:
        return int(modules[args.command].run(args) or 0)
    except ModuleNotFoundError as exc:  # an optional extra is not installed: say which, no traceback
        from arc_agent.extras import message

        text = message(args.command, exc.name)
        if text is None:
            raise
        sys.stderr.write(text + "\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
