"""pytest plugin: replay a cassette against a pattern set and fail on a regression.

Loaded through the ``pytest11`` entry point (or ``-p arc_agent.replay.pytest_plugin``)::

    def test_patterns_do_not_regress(arc_replay):
        report = arc_replay("tests/data/calls.jsonl", patterns="bundles/fixes.json")
        report.assert_no_regression()        # no call that succeeded unfixed fails fixed
        assert report.failed_after < report.failed_before

The provider is ``--arc-replay-base-url`` (or ``ARC_REPLAY_BASE_URL``); without one the test is
skipped, since a replay needs a live provider (e.g. ``arc dev-llm``). Imports nothing heavy until used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest


@dataclass
class ReplayReport:
    results: list
    table: dict

    @property
    def failed_before(self) -> int:
        return sum(r.before != "ok" for r in self.results)

    @property
    def failed_after(self) -> int:
        return sum(r.after != "ok" for r in self.results)

    @property
    def regressions(self) -> list:
        return [r for r in self.results if r.broken]

    def assert_no_regression(self) -> None:
        if self.regressions:
            lines = [f"  {r.record.provider} {r.record.operation} model={r.record.kwargs.get('model')!r}: "
                     f"{r.before} -> {r.after} (patterns {', '.join(r.pattern_ids)})" for r in self.regressions]
            pytest.fail(f"{len(self.regressions)} replayed call(s) regressed:\n" + "\n".join(lines[:20]),
                        pytrace=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--arc-replay-base-url", default=None,
                     help="provider base URL the arc_replay fixture replays cassettes against")


@pytest.fixture
def arc_replay(request: pytest.FixtureRequest):
    """``arc_replay(cassette, patterns=None, base_url=None) -> ReplayReport``."""
    from arc_agent.replay import Replayer, read_records, summarize
    from arc_agent.replay.cli import load_fixer
    from arc_agent.replay.send import Sender

    senders: list = []

    def replay(cassette: str | os.PathLike, patterns: str | None = None, base_url: str | None = None) -> ReplayReport:
        url = base_url or request.config.getoption("--arc-replay-base-url") or os.environ.get("ARC_REPLAY_BASE_URL")
        if not url:
            pytest.skip("arc_replay needs a provider: --arc-replay-base-url or ARC_REPLAY_BASE_URL")
        sender = Sender(url)
        senders.append(sender)
        results = Replayer(sender, load_fixer(patterns or "")).run(read_records(cassette))
        if sender.sent and sender.unreachable == sender.sent:  # not a verdict on the patterns
            pytest.fail(f"arc_replay: cannot reach {url}: no send got an answer ({sender.last_unreachable})",
                        pytrace=False)
        return ReplayReport(results, summarize(results))

    yield replay
    for sender in senders:
        sender.close()
