"""``arc``'s two tables: ``SUBCOMMANDS`` (the module of each subcommand, imported only when it runs)
and ``_HELP`` (its one-line help, the only copy, so ``arc --help`` imports none of them)."""

from __future__ import annotations

import importlib

from arc_agent import cli


def test_every_subcommand_has_its_help_line_and_a_module_that_runs_it():
    assert set(cli._HELP) == set(cli.SUBCOMMANDS)
    for module in cli.SUBCOMMANDS.values():
        loaded = importlib.import_module(module)
        assert callable(loaded.add_arguments) and callable(loaded.run), module
