"""arc_agent.settings: one spelling rule for every flag, bad values logged by name, and a table that
knows every ARC_* variable the code reads (found by reading the source, so a new read without a
table entry fails here)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from arc_agent import settings

ROOT = Path(__file__).resolve().parents[2]
LITERAL = re.compile(r"""["'](ARC_[A-Z0-9_]*)["']""")


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "On"])
def test_true_spellings(raw):
    assert settings.boolean(raw) is True
    assert settings.flag("ARC_HEAL_FIND_ELEMENTS", {"ARC_HEAL_FIND_ELEMENTS": raw}) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", " OFF ", ""])
def test_false_spellings_including_empty(raw):
    assert settings.boolean(raw) is False
    assert settings.flag("ARC_HEAL", {"ARC_HEAL": raw}) is False  # default True: the value decides


def test_a_flag_in_no_spelling_is_a_bad_value_named_and_the_default_is_used(caplog):
    with caplog.at_level(logging.ERROR, logger="arc"):
        assert settings.flag("ARC_HEAL", {"ARC_HEAL": "perhaps-t1"}) is True
        assert settings.flag("ARC_DISABLE", {"ARC_DISABLE": "disabled-t1"}) is False
    assert "ARC_HEAL='perhaps-t1' is not one of 1/0/true/false/yes/no/on/off" in caplog.text
    assert "ARC_DISABLE='disabled-t1'" in caplog.text


def test_numbers_are_bounded_and_a_bad_one_is_logged_once_by_name(caplog):
    env = {"ARC_SAMPLE_RATE": "1.5", "ARC_BREAKER_MS": "fast-t2", "ARC_QUEUE_SIZE": " 128 "}
    with caplog.at_level(logging.ERROR, logger="arc"):
        assert settings.number("ARC_SAMPLE_RATE", env) == 0.1
        assert settings.number("ARC_BREAKER_MS", env) == 50.0
        assert settings.number("ARC_BREAKER_MS", env) == 50.0
        assert settings.integer("ARC_QUEUE_SIZE", env) == 128
    assert "ARC_SAMPLE_RATE='1.5' is outside [0, 1]" in caplog.text
    assert caplog.text.count("ARC_BREAKER_MS='fast-t2' is not a number") == 1
    assert settings.number("ARC_SAMPLE_RATE", {"ARC_SAMPLE_RATE": " "}) == 0.1  # blank: the default


def test_a_value_that_may_hold_a_secret_is_not_echoed():
    assert settings.shown(settings.SETTINGS["ARC_API_KEY"], "sk-live-123") == "(set, hidden)"
    assert "pw" not in settings.shown(settings.SETTINGS["ARC_ENDPOINT"], "grpc://u:pw@host:4317")


def _names_read_in_source() -> dict:
    """Every quoted ``ARC_*`` literal in the shipped code, with a file that has it."""
    found: dict = {}
    for package in ("arc_agent", "arc_bootstrap", "training_ray"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in LITERAL.findall(path.read_text(encoding="utf-8")):
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_arc_variable_read_in_the_code_is_in_the_table():
    found = _names_read_in_source()
    assert "ARC_DISABLE" in found and "ARC_SIDECAR" in found  # the scan sees the code
    missing = {}
    for name, where in found.items():
        if name.endswith("_"):  # a prefix: some variable of the table or a known family starts with it
            known = any(n.startswith(name) for n in settings.SETTINGS) or name in settings.PREFIXES
        else:
            known = name in settings.SETTINGS or any(name.startswith(p) for p in settings.PREFIXES)
        if not known:
            missing[name] = where
    assert missing == {}, "add these to arc_agent/settings.py SETTINGS"


def test_table_entries_are_well_formed():
    kinds = {"float", "int", "bool", "text", "path", "secret", "level", "choice"}
    for name, setting in settings.SETTINGS.items():
        assert name == setting.name and name.startswith("ARC_") and setting.kind in kinds and setting.help
        if setting.kind in ("float", "int") and setting.default is not None:
            assert settings.parse(setting, str(setting.default)) == setting.default
        if setting.kind == "choice":
            assert setting.default in setting.choices


def test_the_readme_names_every_setting():
    """A user finds each ARC_* variable the code reads in the README's settings tables."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in settings.SETTINGS if name not in readme] == []
