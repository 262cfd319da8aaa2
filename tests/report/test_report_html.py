"""``arc report`` writes one HTML file that Chromium renders offline: every panel is a drawn chart,
and the numbers on it are the dashboard SQL's results for the report's own time window."""

from __future__ import annotations

import subprocess

import pytest

from arc_agent.report import charts, dashboard
from arc_agent.vision import heal_report
from tests.helpers.collector import arc_command
from tests.helpers.procs import ROOT, clean_env

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def report(filled, tmp_path_factory):
    """``arc report`` right after the spans landed (the same second included)."""
    out = tmp_path_factory.mktemp("html") / "report.html"
    proc = subprocess.run(arc_command("report", "--store", str(filled.store), "--since", "1h", "-o", str(out)),
                          capture_output=True, text=True, timeout=120, cwd=str(ROOT), env=clean_env())
    assert proc.returncode == 0, proc.stderr
    assert "report: done 12/12" in proc.stderr  # plain progress lines when piped
    return out


def _expected_points(rows: list, title: str) -> set:
    """(series, bucket, value) the way charts.timeseries names its series."""
    if not rows:
        return set()
    time_col = next(iter(rows[0]))
    text, numbers = charts.columns(rows)
    keys = [c for c in text if c != time_col]
    points = set()
    for row in rows:
        split = " · ".join(str(row[k]) for k in keys)
        for col in numbers:
            name = f"{split} {col}".strip() if split and len(numbers) > 1 else (split or col)
            points.add((name, row[time_col], str(row[col])))
    return points


def test_report_opens_offline_and_shows_the_sql_results(filled, report):
    from playwright.sync_api import sync_playwright

    html = report.read_text(encoding="utf-8")
    assert "<script" not in html and " src=" not in html and " href=" not in html  # nothing to fetch
    requests = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        body = page.locator("body")
        window = dashboard.TimeRange(int(body.get_attribute("data-start")), int(body.get_attribute("data-end")),
                                     int(body.get_attribute("data-interval")))
        panels = dashboard.panels(dashboard.load())
        assert page.locator("figure.panel").count() == len(panels) == 11
        for panel in panels:
            figure = page.locator(f'figure.panel[data-panel-id="{panel.id}"]')
            svg = figure.locator("svg.chart")
            box = svg.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 30, panel.title
            assert "empty" not in svg.get_attribute("class"), panel.title
            rows = filled.query(dashboard.expand(panel.sql, window))
            assert rows, panel.title
            if panel.type == "timeseries":
                points = figure.locator("circle.point")
                assert points.count() == len(_expected_points(rows, panel.title)) > 0, panel.title
                assert figure.locator("polyline.line").count() >= 1
                shown = {tuple(p) for p in points.evaluate_all(
                    "els => els.map(e => [e.dataset.series, e.dataset.time, e.dataset.value])")}
                assert shown == _expected_points(rows, panel.title), panel.title
            else:
                bars = figure.locator("rect.bar")
                assert bars.count() == len(rows), panel.title
                values = figure.locator("text.value").evaluate_all("els => els.map(e => e.textContent)")
                value_col = charts.columns(rows)[1][-1]
                assert values == [charts.fmt(r[value_col], panel.unit) for r in rows], panel.title
                assert [float(v) for v in bars.evaluate_all("els => els.map(e => e.dataset.value)")] == \
                    [float(r[value_col]) for r in rows], panel.title
                widths = bars.evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
                assert all(w >= 1 for w in widths)
        heal_rows = filled.query(heal_report.build_sql(3600, 50))
        assert page.locator("section.heal td.times").all_inner_texts() == [str(r["times"]) for r in heal_rows]
        assert "#new-id" in page.locator("section.heal").inner_text()
        browser.close()
    assert requests == [report.as_uri()]  # nothing fetched beyond the file itself


def _bars_and_heals(html: str) -> tuple:
    """What the bar panels and the heal table show (independent of where the time buckets fall)."""
    import re

    return (sorted(re.findall(r'class="bar"[^>]*data-label="([^"]*)" data-value="([^"]*)"', html)),
            re.findall(r'<td class="times">(\d+)</td>', html))


def _report(args: list, out, env: dict) -> str:
    proc = subprocess.run(arc_command("report", *args, "--since", "1h", "-o", str(out)),
                          capture_output=True, text=True, timeout=120, cwd=str(ROOT), env=env)
    assert proc.returncode == 0, proc.stderr
    return out.read_text(encoding="utf-8")


def test_the_report_through_url_and_from_a_store_with_no_collector_shows_the_same(filled, report, tmp_path):
    import shutil

    expected = _bars_and_heals(report.read_text(encoding="utf-8"))
    assert expected[0] and expected[1]
    via_url = _report(["--url", filled.query_url], tmp_path / "url.html", clean_env(ARC_QUERY_TOKEN=filled.token))
    assert _bars_and_heals(via_url) == expected
    # a copy of the store with no collector to discover: the report opens it with chDB itself
    copy = tmp_path / "store-copy"
    for attempt in range(3):  # a background merge may replace a part while it is copied: copy again
        try:
            shutil.copytree(filled.store, copy, symlinks=True,
                            ignore=shutil.ignore_patterns("collector.json", "status"))
            break
        except (shutil.Error, FileNotFoundError):
            shutil.rmtree(copy, ignore_errors=True)
            if attempt == 2:
                raise
    direct = _report(["--store", str(copy)], tmp_path / "direct.html", clean_env())
    assert _bars_and_heals(direct) == expected


@pytest.mark.parametrize("where", ["missing-folder", "a-folder"])
def test_an_output_that_cannot_be_written_is_named_before_any_query(tmp_path, where):
    """A user's typo in -o is an error naming the path (exit 2), not a traceback after the queries ran."""
    out = tmp_path / "nowhere" / "r.html" if where == "missing-folder" else tmp_path
    proc = subprocess.run(arc_command("report", "--url", "http://127.0.0.1:9", "-o", str(out)),
                          capture_output=True, text=True, timeout=60, cwd=str(ROOT), env=clean_env())
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"arc report: cannot write {out}: ") and "Traceback" not in proc.stderr
