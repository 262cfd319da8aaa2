"""One self-contained HTML page: inline CSS and SVG, no script, no external reference."""

from __future__ import annotations

import html
from datetime import datetime

from arc_agent.vision.heal_report import ADVICE as HEAL_ADVICE

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 4px}
.meta{color:#5b6270;margin-bottom:20px}
.grid{display:flex;flex-wrap:wrap;gap:16px}
figure.panel{box-sizing:border-box;background:#fff;border:1px solid #dde1e6;border-radius:6px;
  padding:12px 14px;margin:0;width:600px}
figure.panel p{color:#5b6270;margin:0 0 8px;font-size:12px}
svg .grid{stroke:#e4e7eb}svg text{font-size:11px;fill:#3d4452}svg .note{fill:#8a909c;font-size:13px}
svg .value{font-weight:600}
table{border-collapse:collapse;background:#fff;margin-top:8px}
td,th{border:1px solid #dde1e6;padding:4px 8px;text-align:left}
section.heal{margin-top:24px}code{font-size:12px}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def panel(panel_id: int, title: str, description: str, svg: str, sql: str) -> str:
    return (f'<figure class="panel" data-panel-id="{panel_id}"><h2>{_e(title)}</h2><p>{_e(description)}</p>{svg}'
            f'<details><summary>SQL</summary><pre><code>{_e(sql)}</code></pre></details></figure>')


def heal_section(rows: list) -> str:
    if not rows:
        return '<section class="heal"><h2>Heal report</h2><p>No healed UI actions in this period.</p></section>'
    body = "".join(
        f"<tr><td>{_e(r.get('framework'))}</td><td><code>{_e(r.get('selector'))}</code></td>"
        f"<td><code>{_e(r.get('healed_selector') or '')}</code></td><td>{_e(r.get('strategy'))}</td>"
        f"<td class=\"times\">{_e(r.get('times'))}</td><td>{_e(r.get('url') or '?')}</td>"
        f"<td>{_e(HEAL_ADVICE.get(r.get('strategy'), 'check this selector'))}</td></tr>" for r in rows)
    return ('<section class="heal"><h2>Heal report</h2><p>Selectors Arc healed (<code>arc heal-report</code>): '
            'fix them in the tests.</p><table><tr><th>framework</th><th>selector</th><th>healed to</th>'
            f'<th>strategy</th><th>times</th><th>page</th><th>hint</th></tr>{body}</table></section>')


def document(title: str, start: int, end: int, interval_s: int, source: str, figures: list, heal: str) -> str:
    stamp = "%Y-%m-%d %H:%M"
    period = f"{datetime.fromtimestamp(start).strftime(stamp)} to {datetime.fromtimestamp(end).strftime(stamp)}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head>"
            f'<body data-start="{start}" data-end="{end}" data-interval="{interval_s}"><h1>{_e(title)}</h1>'
            f'<div class="meta">{_e(period)} · {_e(source)}</div>'
            f'<div class="grid">{"".join(figures)}</div>{heal}</body></html>\n')
